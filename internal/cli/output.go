package cli

import (
	"context"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tandemhq/tandem/client"
)

// output is a command's --format flag: the formats it can print, the
// first of them the default.
type output struct {
	format  string
	formats []string
}

// addOutput registers --format on cmd with the given formats, the first
// being the default. JSON, when offered, is written by writeJSON.
func addOutput(cmd *cobra.Command, formats ...string) *output {
	o := &output{formats: formats}
	usage := formats[0]
	if n := len(formats); n > 1 {
		usage = strings.Join(formats[:n-1], ", ") + " or " + formats[n-1]
	}
	cmd.Flags().StringVar(&o.format, "format", formats[0], "output: "+usage)
	return o
}

// check refuses a --format the command does not offer.
func (o *output) check() error { return checkFormat(o.format, o.formats...) }

// render writes v as JSON under --format json, else with text.
func render[T any](cmd *cobra.Command, o *output, v T, text func(io.Writer, T) error) error {
	if o.format == "json" {
		return writeJSON(cmd.OutOrStdout(), v)
	}
	return text(cmd.OutOrStdout(), v)
}

// call is the body of a command that asks the server one thing and prints
// the answer: it checks --format, makes the client from --url and --token,
// runs do (which parses the command's arguments and calls the API) and
// prints what it returns.
func call[T any](cmd *cobra.Command, g *globals, o *output, do func(context.Context, *client.Client) (T, error), text func(io.Writer, T) error) error {
	if err := o.check(); err != nil {
		return err
	}
	c, err := g.client()
	if err != nil {
		return err
	}
	v, err := do(cmd.Context(), c)
	if err != nil {
		return err
	}
	return render(cmd, o, v, text)
}
