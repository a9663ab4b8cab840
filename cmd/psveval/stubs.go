package main

import (
	"context"
	"errors"
	"io"
)

var errNotYet = errors.New("not built yet")

func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error { return errNotYet }
