package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/convctl/convctl/pkg/inspect"
)

// enumValue is a string flag that accepts only its listed values, so a bad
// value is a flag error (exit 2) worded one way for every flag, found
// before anything runs.
type enumValue struct {
	p       *string
	allowed []string
}

func (e *enumValue) String() string { return *e.p }
func (e *enumValue) Type() string   { return strings.Join(e.allowed, "|") } // shown in --help as the value's name

func (e *enumValue) Set(v string) error {
	for _, a := range e.allowed {
		if v == a {
			*e.p = v
			return nil
		}
	}
	return fmt.Errorf("want %s", oneOf(e.allowed))
}

// listValue is a repeatable flag: each use adds one value, commas and all,
// as pflag's StringArray does, without its cost: pflag renders a
// StringArray's default through encoding/csv, a 4 KiB buffer for each such
// flag on every start of every command (a third of building the tree).
type listValue struct{ p *[]string }

func listVar(fs *pflag.FlagSet, p *[]string, name, usage string) {
	fs.Var(listValue{p}, name, usage)
}

// String is "" when empty, so --help shows no "(default [])".
func (v listValue) String() string {
	if len(*v.p) == 0 {
		return ""
	}
	return "[" + strings.Join(*v.p, ",") + "]"
}
func (v listValue) Type() string { return "stringArray" }
func (v listValue) Set(s string) error {
	*v.p = append(*v.p, s)
	return nil
}

// oneOf words a choice: "text or json", "a, b or c".
func oneOf(vals []string) string {
	if len(vals) == 1 {
		return vals[0]
	}
	return strings.Join(vals[:len(vals)-1], ", ") + " or " + vals[len(vals)-1]
}

// enumFlag defines a flag that takes one of values (def is the default),
// with shell completion of the values. --help names them.
func enumFlag(cmd *cobra.Command, p *string, name, shorthand, def string, values []string, usage string) {
	*p = def
	cmd.Flags().VarP(&enumValue{p: p, allowed: values}, name, shorthand, usage)
	completeWith(cmd, name, values)
}

// completeWith offers values when the shell completes flag name.
func completeWith(cmd *cobra.Command, name string, values []string) {
	_ = cmd.RegisterFlagCompletionFunc(name, func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	})
}

// outputFlag is -o, --output: text or json, for every command with a report.
func outputFlag(cmd *cobra.Command, p *string) {
	enumFlag(cmd, p, "output", "o", "text", []string{"text", "json"}, "report format")
}

// productFlag is --product: the product whose grant a token must carry.
// The usage's `NAME` is replaced by the list of products.
func productFlag(cmd *cobra.Command, p *string, usage string) {
	var names []string
	for _, pr := range inspect.Products() {
		names = append(names, string(pr))
	}
	enumFlag(cmd, p, "product", "", string(inspect.ProductConversations), names, usage)
}

// ---- regions ---------------------------------------------------------------

// knownRegions are offered on completion of --region.
var knownRegions = []string{"us1", "us2", "ie1", "de1", "au1", "jp1", "sg1", "br1"}

// isRegion is the one region rule for every flag that takes one: two
// lower-case letters and a digit (us1, ie1, au1). A function, not a
// regexp, so no command pays for compiling one at start.
func isRegion(s string) bool {
	return len(s) == 3 && 'a' <= s[0] && s[0] <= 'z' && 'a' <= s[1] && s[1] <= 'z' && '0' <= s[2] && s[2] <= '9'
}

// regionValue is a --region flag; "" is accepted only when allowEmpty.
type regionValue struct {
	p          *string
	allowEmpty bool
}

func (r *regionValue) String() string { return *r.p }
func (r *regionValue) Type() string   { return "string" }

func (r *regionValue) Set(v string) error {
	if !(v == "" && r.allowEmpty) && !isRegion(v) {
		return fmt.Errorf("not a Twilio region: want two letters and a digit, like %s", oneOf(knownRegions[:4]))
	}
	*r.p = v
	return nil
}

// regionFlag defines --region with the one region rule and completion.
func regionFlag(cmd *cobra.Command, p *string, def string, usage string) {
	*p = def
	cmd.Flags().Var(&regionValue{p: p, allowEmpty: def == ""}, "region", usage)
	completeWith(cmd, "region", knownRegions)
}

// regionURL is Twilio's Twilsock endpoint for a region.
func regionURL(region string) string {
	return "wss://tsock." + region + ".twilio.com/v3/wsconnect"
}

// ---- conflicts -------------------------------------------------------------

// conflictError is the one wording of two flags that cannot go together.
func conflictError(a, b, why string) error {
	msg := "--" + a + " and --" + b + " cannot be used together"
	if why != "" {
		msg += ": " + why
	}
	return usageErrorf("%s", msg)
}

// flagsConflict returns conflictError for the first pair of changed flags
// that rules out, or nil.
func flagsConflict(cmd *cobra.Command, a, b, why string) error {
	if cmd.Flags().Changed(a) && cmd.Flags().Changed(b) {
		return conflictError(a, b, why)
	}
	return nil
}
