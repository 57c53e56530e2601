package main

import (
	"fmt"
	"os"
	"strconv"

	"kcloud.dev/kcloud/internal/gentree"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gentree DIR [N]")
		os.Exit(2)
	}
	n := 500
	if len(os.Args) > 2 {
		var err error
		if n, err = strconv.Atoi(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "gentree: N:", err)
			os.Exit(2)
		}
	}
	if err := gentree.Write(os.Args[1], n); err != nil {
		fmt.Fprintln(os.Stderr, "gentree:", err)
		os.Exit(1)
	}
}
