package main

import "github.com/alecthomas/kingpin/v2"

// commands registers every sub-command on k.
func (a *app) commands(k *kingpin.Application) []command {
	return nil
}
