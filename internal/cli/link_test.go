package cli_test

import (
	"github.com/convctl/convctl/internal/cli"
	"github.com/convctl/convctl/internal/cli/withexporter"
)

func init() { cli.LinkedForTest = withexporter.Program }
