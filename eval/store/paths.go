package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// CheckOutDir says why dir cannot be a directory to write, before any
// work: it is an existing file, or its path goes through one. A missing
// directory is fine: it is created.
func CheckOutDir(dir string) error {
	if dir == "" {
		return nil
	}
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil {
			switch {
			case fi.IsDir():
				return nil
			case p == filepath.Clean(dir):
				return errors.New("a file, not a directory: give a new or existing directory")
			}
			return fmt.Errorf("%s is a file, not a directory", p)
		}
		if filepath.Dir(p) == p {
			return nil
		}
	}
}

// CheckOutFile says why path cannot be a file to write, before any work:
// it is a directory, or its folder does not exist or is a file.
func CheckOutFile(path string) error {
	if path == "" {
		return nil
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return errors.New("a directory: give a file name")
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		return fmt.Errorf("the folder %s does not exist: create it first", dir)
	case !fi.IsDir():
		return fmt.Errorf("%s is a file, not a folder", dir)
	}
	return nil
}
