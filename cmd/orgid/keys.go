package main

// keysCommands are the `orgid keys …` subcommands.
var keysCommands = []command{}
