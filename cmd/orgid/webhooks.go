package main

// webhooksCommands are the `orgid webhooks …` subcommands.
var webhooksCommands = []command{}
