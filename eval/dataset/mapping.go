package dataset

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// A Role is what a dataset column means to psveval.
type Role string

// The column roles. Question and Answer are required; the rest are optional.
const (
	RoleID       Role = "id"
	RoleQuestion Role = "question"
	RoleAnswer   Role = "answer"
	RoleType     Role = "question_type"
	RoleImage    Role = "image"
	RoleRubric   Role = "rubric"
	RoleModality Role = "modality"
	RoleTopic    Role = "main_topic"
	RoleSource   Role = "source"
	RoleTerms    Role = "med_terms"
)

// Roles lists every role in a fixed order.
var Roles = []Role{RoleID, RoleQuestion, RoleAnswer, RoleType, RoleImage, RoleRubric, RoleModality, RoleTopic, RoleSource, RoleTerms}

// candidates are the column names tried, in order, for a role the user did
// not map.
var candidates = map[Role][]string{
	RoleID:       {"id", "qid", "index", "question_id", "item_id"},
	RoleQuestion: {"question", "query", "prompt"},
	RoleAnswer:   {"answer", "reference", "gt_answer", "ground_truth", "reference_answer"},
	RoleType:     {"question_type", "category", "type"},
	RoleImage:    {"image", "images", "image_path"},
	RoleRubric:   {"rubric", "rubrics"},
	RoleModality: {"modality"},
	RoleTopic:    {"main_topic", "topic"},
	RoleSource:   {"source", "dataset"},
	RoleTerms:    {"med_terms"},
}

func required(r Role) bool { return r == RoleQuestion || r == RoleAnswer }

// A Mapping maps roles to column names. The zero value maps nothing, and
// [ResolveMapping] fills in the rest from common names.
type Mapping map[Role]string

// ParseMapping parses "question=query,answer=gt_answer,...". A role mapped
// to "-" or "" is switched off: the column is not read even if it exists.
func ParseMapping(s string) (Mapping, error) {
	m := Mapping{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		role, col, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("mapping %q: want role=column", part)
		}
		if err := m.Set(role, col); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Set maps role to col, checking that role is known.
func (m Mapping) Set(role, col string) error {
	r := Role(strings.TrimSpace(role))
	if !slices.Contains(Roles, r) {
		return fmt.Errorf("mapping: unknown role %q (roles: %s)", role, joinRoles())
	}
	m[r] = strings.TrimSpace(col)
	return nil
}

func joinRoles() string {
	s := make([]string, len(Roles))
	for i, r := range Roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// String formats m as ParseMapping reads it, in role order.
func (m Mapping) String() string {
	var parts []string
	for _, r := range Roles {
		if c, ok := m[r]; ok {
			parts = append(parts, string(r)+"="+c)
		}
	}
	return strings.Join(parts, ",")
}

// ResolveMapping completes user against the columns a dataset has: a role
// the user mapped must name an existing column; an unmapped role takes the
// first candidate name that exists. A required role that ends up unmapped
// is an error that lists the columns there are.
func ResolveMapping(user Mapping, columns []string) (Mapping, error) {
	have := make(map[string]bool, len(columns))
	for _, c := range columns {
		have[c] = true
	}
	used := map[string]Role{}
	m := Mapping{}
	for _, r := range Roles {
		col, mapped := user[r]
		switch {
		case mapped && (col == "" || col == "-"):
			continue
		case mapped:
			if !have[col] {
				return nil, fmt.Errorf("column %q (mapped to %s) does not exist; the columns are: %s", col, r, strings.Join(columns, ", "))
			}
		default:
			for _, c := range candidates[r] {
				if have[c] && used[c] == "" && !userClaims(user, c) {
					col = c
					break
				}
			}
		}
		if col == "" {
			if required(r) {
				return nil, fmt.Errorf("no column for %s: tried %s; the columns are: %s; map one with --map %s=COLUMN",
					r, strings.Join(candidates[r], ", "), strings.Join(columns, ", "), r)
			}
			continue
		}
		if prev := used[col]; prev != "" {
			return nil, fmt.Errorf("column %q is mapped to both %s and %s", col, prev, r)
		}
		used[col] = r
		m[r] = col
	}
	return m, nil
}

func userClaims(user Mapping, col string) bool {
	return slices.Contains(slices.Collect(maps.Values(user)), col)
}
