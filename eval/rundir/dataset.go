package rundir

import (
	"cmp"
	"path/filepath"

	"github.com/psveval/psveval/eval/dataset"
)

// NewDatasetInfo describes ds, whose fingerprint is fp, for a manifest.
func NewDatasetInfo(ds *dataset.Dataset, fp dataset.Fingerprint) DatasetInfo {
	m := map[string]string{}
	for r, c := range ds.Mapping {
		m[string(r)] = c
	}
	path, _ := filepath.Abs(ds.Path)
	return DatasetInfo{
		Path: path, Format: ds.Format, Fingerprint: fp.SHA256, Items: fp.Items, Limit: ds.Limit(), Shard: ds.Shard(),
		Mapping: m, Skipped: fp.Skipped,
		DefaultRubric: RubricInfo{Version: ds.Rubric.Version, SHA256: ds.Rubric.Hash},
		ClusterBy:     ds.ClusterBy(),
		ImageRoot:     absOrEmpty(ds.ImageRoot()), SkipBadItems: ds.SkipsBadItems(), MaxImageBytes: ds.MaxImageBytes(), MaxTextBytes: ds.MaxTextBytes(),
	}
}

// DatasetOptions returns the options that open the dataset the run read,
// as its manifest records them: its column mapping (roles it did not map
// are off), its item limit, whether it skipped bad items and its image
// size limit, with image paths relative to imageRoot ("" for the run's
// own --image-root, else the dataset's folder). The shard is not set:
// the options open the whole dataset.
func (m *Manifest) DatasetOptions(imageRoot string) dataset.Options {
	opts := dataset.Options{ImageRoot: cmp.Or(imageRoot, m.Dataset.ImageRoot), Limit: m.Dataset.Limit, Map: dataset.Mapping{}, ClusterBy: m.Dataset.ClusterBy,
		SkipBadItems: m.Dataset.SkipBadItems, MaxImageBytes: m.Dataset.MaxImageBytes, MaxTextBytes: m.Dataset.MaxTextBytes}
	for _, r := range dataset.Roles {
		c, ok := m.Dataset.Mapping[string(r)]
		if !ok {
			c = "-"
		}
		opts.Map[r] = c
	}
	return opts
}

func absOrEmpty(p string) string {
	if p == "" {
		return ""
	}
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}
