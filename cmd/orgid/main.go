// Command orgid is the OpenID Connect provider: `orgid serve` runs the
// server, the other subcommands administer the same database for scripts.
// This package only parses flags and wires packages together; it holds no
// logic of its own, and nothing imports it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strings"
	"syscall"
)

// commands lists every subcommand by its full name. Nested names ("keys
// rotate") are matched word by word, longest first. Each file of this package
// declares the commands of one area.
var commands = slices.Concat(
	coreCommands,
	keysCommands,
	usersCommands,
	clientsCommands,
	webhooksCommands,
	templatesCommands,
	orgsCommands,
	conformanceCommands,
	registrationCommands,
	apikeysCommands,
	idpsCommands,
)

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, inv *invocation) error
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run executes one command line and returns the process exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd, rest := lookup(args)
	if cmd == nil {
		usage(stderr, args)
		return 2
	}
	inv := &invocation{name: cmd.name, args: rest, getenv: getenv, stdout: stdout, stderr: stderr}
	err := cmd.run(ctx, inv)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(stderr, "orgid %s: %v\n", cmd.name, err)
		var ec exitCoder
		if errors.As(err, &ec) {
			return ec.ExitCode()
		}
		return 1
	}
}

// exitCoder lets a command choose its exit code (conformance runs use it).
type exitCoder interface{ ExitCode() int }

func lookup(args []string) (*command, []string) {
	var best *command
	bestWords := 0
	for i := range commands {
		words := strings.Fields(commands[i].name)
		if len(words) <= len(args) && len(words) > bestWords && equalWords(words, args[:len(words)]) {
			best, bestWords = &commands[i], len(words)
		}
	}
	if best == nil {
		return nil, nil
	}
	return best, args[bestWords:]
}

func equalWords(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func usage(w io.Writer, args []string) {
	if len(args) > 0 && args[0] != "help" && args[0] != "-h" && args[0] != "--help" {
		fmt.Fprintf(w, "orgid: unknown command %q\n\n", strings.Join(args, " "))
	}
	fmt.Fprintln(w, "Usage: orgid COMMAND [flags]   (orgid COMMAND -h for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, len(commands))
	byName := map[string]string{}
	for i, c := range commands {
		names[i] = c.name
		byName[c.name] = c.summary
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-28s %s\n", n, byName[n])
	}
	fmt.Fprintln(w, "\nEvery flag has an environment twin: --database-url is ORGID_DATABASE_URL.")
}
