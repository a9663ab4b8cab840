package main

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// TestKubernetesYAML decodes every YAML document of README.md that names
// a Kubernetes kind strictly into the API types (an unknown or misspelt
// field fails), and checks what the shard recipe relies on.
func TestKubernetesYAML(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	kindRE := regexp.MustCompile(`(?m)^kind: *(\w+)`)
	var jobs []*batchv1.Job
	kinds := map[string]int{}
	for _, block := range strings.Split(string(b), "```yaml\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		for doc := range strings.SplitSeq(block, "\n---\n") {
			m := kindRE.FindStringSubmatch(doc)
			if m == nil {
				continue // not a Kubernetes object: a psveval config, GitHub Actions
			}
			var obj any
			switch m[1] {
			case "Job":
				obj = &batchv1.Job{}
			case "PersistentVolumeClaim":
				obj = &corev1.PersistentVolumeClaim{}
			case "Secret":
				obj = &corev1.Secret{}
			case "ConfigMap":
				obj = &corev1.ConfigMap{}
			default:
				t.Errorf("README.md has a %s, which this test does not know: add its type", m[1])
				continue
			}
			if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
				t.Errorf("%s does not decode strictly: %v\n%s", m[1], err, doc)
				continue
			}
			kinds[m[1]]++
			if j, ok := obj.(*batchv1.Job); ok {
				jobs = append(jobs, j)
			}
		}
	}
	for _, k := range []string{"Job", "PersistentVolumeClaim", "Secret", "ConfigMap"} {
		if kinds[k] == 0 {
			t.Errorf("README.md has no %s", k)
		}
	}
	var shards *batchv1.Job
	for _, j := range jobs {
		if j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == batchv1.IndexedCompletion {
			shards = j
		}
	}
	if shards == nil {
		t.Fatal("README.md has no Indexed Job")
	}
	s := shards.Spec
	pod := s.Template.Spec
	c := pod.Containers[0]
	args := strings.Join(c.Args, " ")
	for _, check := range []struct {
		ok   bool
		what string
	}{
		{pod.RestartPolicy == corev1.RestartPolicyNever, "restartPolicy: Never"},
		{s.BackoffLimitPerIndex != nil, "backoffLimitPerIndex"},
		{s.PodReplacementPolicy != nil && *s.PodReplacementPolicy == batchv1.Failed, "podReplacementPolicy: Failed"},
		{s.PodFailurePolicy != nil && slices.ContainsFunc(s.PodFailurePolicy.Rules, func(r batchv1.PodFailurePolicyRule) bool {
			return r.Action == batchv1.PodFailurePolicyActionFailIndex && r.OnExitCodes != nil && slices.Contains(r.OnExitCodes.Values, 2)
		}), "a podFailurePolicy rule that fails the index on exit 2"},
		{strings.Contains(args, "$(JOB_COMPLETION_INDEX)"), "$(JOB_COMPLETION_INDEX) in args"},
		{s.Completions != nil && strings.Contains(args, fmt.Sprintf("--shard-count %d", *s.Completions)), "--shard-count equal to completions"},
		{slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
			return e.Name == "XDG_CACHE_HOME" && slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return strings.HasPrefix(e.Value, m.MountPath) })
		}), "XDG_CACHE_HOME on a mounted volume"},
		{!strings.HasSuffix(c.Image, ":latest") && strings.Contains(c.Image, ":"), "an image with a version tag, not :latest"},
	} {
		if !check.ok {
			t.Errorf("the Indexed Job lacks %s", check.what)
		}
	}
	if len(jobs) < 2 {
		t.Error("README.md has no merge Job after the shards")
	}
}
