package main

// orgsCommands are the `orgid orgs …` subcommands.
var orgsCommands = []command{}
