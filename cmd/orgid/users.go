package main

// usersCommands are the `orgid users …` subcommands.
var usersCommands = []command{}
