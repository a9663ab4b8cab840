package rubric

import (
	"encoding/json"
	"testing"
)

func checkAppendJSON(t *testing.T, cs []Criterion) {
	t.Helper()
	want, err := json.Marshal(cs)
	if err != nil {
		t.Fatal(err)
	}
	if got := AppendJSON(nil, cs); string(got) != string(want) {
		t.Errorf("AppendJSON(%+v)\n= %s\nwant %s", cs, got, want)
	}
}

func TestAppendJSONIsJSONMarshal(t *testing.T) {
	checkAppendJSON(t, nil)
	checkAppendJSON(t, []Criterion{})
	checkAppendJSON(t, []Criterion{
		{Dim: "accuracy", Points: 5, Description: "Names the <left> lung & \"nothing\" else.\n\tTab\b\f\r\x00\x1f\x7f"},
		{Dim: "safety", Points: -9223372036854775808, Description: "bad \xff\xfe utf-8, cut \xe2\x82, \u2028\u2029 café 肺 🫁"},
	})
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("accuracy", int64(1), "<b>&amp;</b> \u2028 \xff")
	f.Add("", int64(-3), "")
	f.Fuzz(func(t *testing.T, dim string, points int64, desc string) {
		checkAppendJSON(t, []Criterion{{Dim: dim, Points: points, Description: desc}, {Dim: desc, Points: -points, Description: dim}})
	})
}
