package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psveval/psveval/cmd/internal/cmdline"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestMain lets the test binary stand in for psveval itself, so tests can
// run it as a child process (and kill -9 it) without building it: with
// PSVEVAL_TEST_MAIN=1 it runs main and exits.
func TestMain(m *testing.M) {
	if os.Getenv("PSVEVAL_TEST_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

// cli runs psveval with args as main would and returns stdout, stderr and
// the exit code.
func cli(t *testing.T, ctx context.Context, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(ctx, args, &out, &errb)
	if err != nil && exitCode(err) != 0 && !cmdline.AlreadyPrinted(err) {
		errb.WriteString("psveval: " + err.Error() + "\n")
	}
	return out.String(), errb.String(), exitCode(err)
}

// golden compares got with testdata/<name>.golden, rewriting it under
// -update. On a mismatch it prints both and saves got as an artifact.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		art := filepath.Join(t.ArtifactDir(), name+".got")
		_ = os.WriteFile(art, []byte(got), 0o644)
		t.Errorf("output differs from %s (got saved to %s; rerun with -update if the change is intended)\n--- got ---\n%s\n--- want ---\n%s", path, art, got, want)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	out, _, code := cli(t, t.Context(), "help")
	if code != 0 {
		t.Fatalf("help exited %d", code)
	}
	for _, c := range commands() {
		if !strings.Contains(out, "  "+c.name+" ") {
			t.Errorf("help does not list %s:\n%s", c.name, out)
		}
	}
	_, errOut, code := cli(t, t.Context(), "frobnicate")
	if code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, stderr %q", code, errOut)
	}
	out, _, code = cli(t, t.Context(), "help", "inspect")
	if code != 0 || !strings.Contains(out, "-skip-bad-items") {
		t.Errorf("help inspect: exit %d\n%s", code, out)
	}
}

func TestInspect(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"inspect-parquet", []string{"inspect", "../../testdata/psv-mini.parquet"}},
		{"inspect-jsonl-json", []string{"inspect", "--format", "json", "--limit", "12", "--decode", "../../testdata/psv-mini.jsonl"}},
		{"inspect-group-by", []string{"inspect", "--group-by", "modality", "../../testdata/psv-mini.parquet"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, errOut, code := cli(t, t.Context(), tc.args...)
			if code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, errOut)
			}
			golden(t, tc.name, out)
		})
	}
}

func TestInspectBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte(`{"id":"a","question":"q","answer":"x"}`+"\n"+`{"id":"b","question":"q","answer":"x","image":"../../etc/passwd"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args    []string
		code    int
		wantErr string
	}{
		{[]string{"inspect", bad}, 2, `bad.jsonl: line 2: item "b": column "image": image path "../../etc/passwd" points outside the dataset's folder`},
		{[]string{"inspect", "--skip-bad-items", bad}, 0, ""},
		{[]string{"inspect", filepath.Join(dir, "nope.parquet")}, 2, "no such file or directory"},
		{[]string{"inspect", "--map", "question=query", bad}, 2, `column "query" (mapped to question) does not exist; the columns are: answer, id, question, image`},
		{[]string{"inspect", "--map", "colour=x", bad}, 2, `unknown role "colour"`},
		{[]string{"inspect", "--format", "yaml", bad}, 2, `unknown --format "yaml"`},
		{[]string{"inspect"}, 2, "no dataset: give --data FILE"},
	} {
		out, errOut, code := cli(t, t.Context(), tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.wantErr) {
			t.Errorf("psveval %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, errOut, tc.code, tc.wantErr)
		}
		if tc.code == 0 && !strings.Contains(out, "skipped: column \"image\"") {
			t.Errorf("--skip-bad-items output does not list the skipped item:\n%s", out)
		}
	}
}

// TestDocListsCommands keeps the package doc's command list equal to the
// commands psveval has, in the same order, as cmd/go's TestDocsUpToDate
// does for its help.
func TestDocListsCommands(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	doc, _, _ := strings.Cut(string(b), "\npackage main")
	_, list, ok := strings.Cut(doc, "// Commands:\n//\n")
	list, _, _ = strings.Cut(list, "//\n")
	if !ok {
		t.Fatal("main.go's doc has no \"Commands:\" list")
	}
	var documented []string
	for l := range strings.Lines(list) {
		if f := strings.Fields(strings.TrimPrefix(l, "//")); len(f) > 0 {
			documented = append(documented, f[0])
		}
	}
	var real []string
	for _, c := range commands() {
		real = append(real, c.name)
	}
	real = append(real, "help")
	if got, want := strings.Join(documented, " "), strings.Join(real, " "); got != want {
		t.Errorf("the package doc lists the commands\n  %s\nbut psveval has\n  %s", got, want)
	}
}
