package main

// conformanceCommands are the `orgid conformance …` subcommands.
var conformanceCommands = []command{}
