package cli

// LinkedForTest is convctl with the exporter linked in
// (withexporter.Program). link_test.go sets it: it is in package cli_test,
// which may import withexporter; this package may not, as withexporter
// imports it.
var LinkedForTest Program
