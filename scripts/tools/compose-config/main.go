// compose-config renders Compose files the way `docker compose config` does, with the same loader
// library (compose-go): schema validation, interpolation (so `${VAR:?message}` fails when VAR is
// unset), normalisation and the consistency checks. It prints the resolved project as JSON, or the
// loader's error on stderr with exit code 1. The upstream module's own cmd/ loads the raw model
// without the environment, so it cannot test required variables; this uses LoadProject instead.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-config COMPOSE_FILE [OVERRIDE_FILE...]")
		os.Exit(2)
	}
	wd, err := os.Getwd()
	if err != nil {
		fail("working directory", err)
	}
	options, err := cli.NewProjectOptions(os.Args[1:],
		cli.WithWorkingDirectory(wd),
		cli.WithOsEnv,
		cli.WithInterpolation(true),
		cli.WithResolvedPaths(true),
		cli.WithNormalization(true),
		cli.WithConsistency(true),
	)
	if err != nil {
		fail("project options", err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail("failed to load project", err)
	}
	out, err := json.MarshalIndent(project, "", "  ")
	if err != nil {
		fail("marshal project", err)
	}
	fmt.Println(string(out))
}

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
	os.Exit(1)
}
