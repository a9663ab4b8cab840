package main

import (
	"context"
	"errors"
	"io"
)

var errNotYet = errors.New("not built yet")

func reportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error  { return errNotYet }
func compareCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error { return errNotYet }
func gateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error    { return errNotYet }
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error   { return errNotYet }
