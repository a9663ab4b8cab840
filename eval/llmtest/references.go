package llmtest

import "github.com/psveval/psveval/eval/dataset"

// References reads a dataset's question → reference map, for
// [Config.References]. Images are not read: the fake model does not look
// at them.
func References(path string) (map[string]string, error) {
	ds, err := dataset.Open(path, dataset.Options{Map: dataset.Mapping{dataset.RoleImage: "-"}})
	if err != nil {
		return nil, err
	}
	refs := map[string]string{}
	for it, err := range ds.All() {
		if err != nil {
			return nil, err
		}
		refs[it.Question] = it.Reference
	}
	return refs, nil
}
