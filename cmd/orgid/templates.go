package main

// templatesCommands are the `orgid templates …` subcommands.
var templatesCommands = []command{}
