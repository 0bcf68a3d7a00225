package main

// clientsCommands are the `orgid clients …` subcommands.
var clientsCommands = []command{}
