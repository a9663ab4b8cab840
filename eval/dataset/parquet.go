package dataset

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"sort"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
	"github.com/psveval/psveval/eval"
)

type parquetSource struct {
	path string
	size int64
	cols []Column
}

// openParquet reads the file's footer and schema. parquet.OpenFile returns
// errors; the readers built on it may panic on a corrupt file, so every
// call into parquet-go below is guarded by recover.
func openParquet(path string, size int64) (_ *parquetSource, err error) {
	s := &parquetSource{path: path, size: size}
	f, err := os.Open(path)
	if err != nil {
		return nil, &eval.InputError{File: path, Err: err}
	}
	defer f.Close()
	defer guard(&err, path, "")
	pf, err := parquet.OpenFile(f, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, &eval.InputError{File: path, Err: fmt.Errorf("not a readable parquet file: %w", err)}
	}
	for _, fld := range pf.Schema().Fields() {
		s.cols = append(s.cols, Column{Name: fld.Name(), Type: shapeOf(fld)})
	}
	return s, nil
}

// guard turns a panic inside parquet-go into an InputError.
func guard(err *error, path, pos string) {
	if r := recover(); r != nil {
		*err = &eval.InputError{File: path, Pos: pos, Err: fmt.Errorf("corrupt parquet data: %v", r)}
	}
}

func (s *parquetSource) columns() []Column { return s.cols }
func (s *parquetSource) rawBytes() bool    { return true }

// records reads the file one row group at a time. A reader over the whole
// file (parquet.NewReader) keeps state for every row group at once, so its
// memory grows with the file; one row group's reader is bounded by that
// row group.
func (s *parquetSource) records(bool) iter.Seq2[posRecord, error] {
	return func(yield func(posRecord, error) bool) {
		f, err := os.Open(s.path)
		if err != nil {
			yield(posRecord{}, &eval.InputError{File: s.path, Err: err})
			return
		}
		defer f.Close()
		groups, err := s.rowGroups(f)
		if err != nil {
			yield(posRecord{}, err)
			return
		}
		row := 0
		for _, rg := range groups {
			more, err := s.readGroup(rg, &row, yield)
			if err != nil {
				yield(posRecord{}, err)
				return
			}
			if !more {
				return
			}
		}
	}
}

func (s *parquetSource) rowGroups(f *os.File) (_ []parquet.RowGroup, err error) {
	defer guard(&err, s.path, "")
	pf, err := parquet.OpenFile(f, s.size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, &eval.InputError{File: s.path, Err: fmt.Errorf("not a readable parquet file: %w", err)}
	}
	return pf.RowGroups(), nil
}

// readGroup yields the rows of one row group, numbering them from *row. It
// reports whether the caller wants more.
func (s *parquetSource) readGroup(rg parquet.RowGroup, row *int, yield func(posRecord, error) bool) (more bool, err error) {
	defer guard(&err, s.path, fmt.Sprintf("row %d", *row))
	r := parquet.NewRowGroupReader(rg)
	defer r.Close()
	for {
		pos := fmt.Sprintf("row %d", *row)
		m := map[string]any{}
		if err := r.Read(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return true, nil
			}
			return false, &eval.InputError{File: s.path, Pos: pos, Err: fmt.Errorf("corrupt parquet data: %w", err)}
		}
		*row++
		if !yield(posRecord{pos: pos, num: *row - 1, rec: m}, nil) {
			return false, nil
		}
	}
}

// shapeOf describes a parquet node as a compact type: string, bytes, int,
// float, bool, struct{name:type,...}, list<type>.
func shapeOf(n parquet.Node) string {
	t := n.Type()
	if n.Leaf() {
		var s string
		switch t.Kind() {
		case parquet.ByteArray, parquet.FixedLenByteArray:
			s = "bytes"
			switch logical(t).(type) {
			case *format.StringType, *format.EnumType, *format.JsonType:
				s = "string"
			}
		case parquet.Int32, parquet.Int64, parquet.Int96:
			s = "int"
		case parquet.Float, parquet.Double:
			s = "float"
		case parquet.Boolean:
			s = "bool"
		default:
			s = strings.ToLower(t.Kind().String())
		}
		if n.Repeated() {
			return "list<" + s + ">"
		}
		return s
	}
	fields := n.Fields()
	if _, isList := logical(t).(*format.ListType); isList && len(fields) == 1 && len(fields[0].Fields()) == 1 {
		return "list<" + shapeOf(fields[0].Fields()[0]) + ">" // 3-level LIST
	}
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f.Name() + ":" + shapeOf(f)
	}
	sort.Strings(parts)
	s := "struct{" + strings.Join(parts, ",") + "}"
	if n.Repeated() {
		return "list<" + s + ">"
	}
	return s
}

func logical(t parquet.Type) format.LogicalTypeValue {
	if lt := t.LogicalType(); lt != nil {
		return lt.Value
	}
	return nil
}
