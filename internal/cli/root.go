// Package cli is tandem's command line, on cobra. Commands that talk to a
// server use the client package with TANDEM_URL and TANDEM_TOKEN; commands
// that work locally (serve, demo, token, config validate) open the database
// or config themselves. Every flag can also be set as TANDEM_<FLAG> in the
// environment, with dashes as underscores (--data-dir is TANDEM_DATA_DIR).
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tandemhq/tandem"
	"github.com/tandemhq/tandem/client"
)

// ExitError carries a process exit code that is not a plain failure, such as
// a gate's 1 (fail) or 2 (could not evaluate). Its message, if any, has
// already been printed.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// globals are the flags every command has.
type globals struct {
	url       string
	token     string
	logFormat string
	logLevel  string

	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// Execute runs the CLI with args and returns the process exit code.
func Execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	g := &globals{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	fmt.Fprintln(stderr, "error:", errorText(err))
	return 1
}

// errorText writes an error for a person at a terminal: the field first,
// as config errors and flags read ("--service: required",
// "events[3].time: …"), then the message, and the error's code when it
// says more than "the input is wrong" ("[not_found]", "[unauthorized]").
func errorText(err error) string {
	var te *tandem.Error
	if !errors.As(err, &te) {
		return err.Error()
	}
	s := te.Message
	if te.Field != "" && !strings.HasPrefix(s, te.Field) {
		s = te.Field + ": " + s
	}
	if te.Code != tandem.EInvalid {
		s += " [" + te.Code + "]"
	}
	return s
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "tandem",
		Short: "tandem: DevOps delivery and SRE reliability in one binary",
		Long: `tandem joins delivery speed (change events, DORA metrics) and stability
(SLOs, error budgets, incidents, on-call) in one self-hosted binary.

Every flag can also be set in the environment as TANDEM_<FLAG>
(for example TANDEM_URL, TANDEM_TOKEN, TANDEM_DATA_DIR).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return bindEnv(cmd)
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.url, "url", "", "tandem server URL for client commands (TANDEM_URL)")
	pf.StringVar(&g.token, "token", "", "API token for client commands (TANDEM_TOKEN)")
	pf.StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	pf.StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")

	root.AddCommand(
		newVersionCmd(g),
		newServeCmd(g),
		newDemoCmd(g),
		newConfigCmd(g),
		newTokenCmd(g),
		newOwnersCmd(g),
		newServicesCmd(g),
		newDBCmd(g),
	)
	for _, cmds := range [][]*cobra.Command{
		changeCommands(g), sloCommands(g), oncallCommands(g),
		incidentCommands(g), gateCommands(g), learningCommands(g),
		importCommands(g),
	} {
		root.AddCommand(cmds...)
	}
	return root
}

// bindEnv fills every flag the user did not set from TANDEM_<FLAG>.
func bindEnv(cmd *cobra.Command) error {
	var errs []error
	visit := func(f *pflag.Flag) {
		if f.Changed {
			return
		}
		env := "TANDEM_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v, ok := os.LookupEnv(env)
		if !ok {
			return
		}
		if err := f.Value.Set(v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", env, err))
			return
		}
		f.Changed = true
	}
	cmd.Flags().VisitAll(visit)
	cmd.InheritedFlags().VisitAll(visit)
	return errors.Join(errs...)
}

// logger builds the slog logger from --log-format and --log-level.
func (g *globals) logger() (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch g.logFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(g.stderr, opts)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(g.stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: want text or json, got %q", g.logFormat)
}

// client returns an API client from --url/--token (TANDEM_URL/TANDEM_TOKEN).
func (g *globals) client() (*client.Client, error) {
	return client.New(g.url, g.token, client.WithUserAgent("tandem-cli/"+Version))
}

// writeJSON writes v as indented JSON: the --format json output of every
// command.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// checkFormat refuses a --format value that is not one of allowed.
func checkFormat(format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	return tandem.FieldErrorf("--format", "want %s, got %q", strings.Join(allowed, " or "), format)
}

// plural writes a count with the noun in the right number: "1 error",
// "3 errors".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
