// go-gunzip: the reference reader for parallel-gzip.test.ts. Decompresses stdin to stdout
// with Go's compress/gzip, the reader Docker, containerd, skopeo and umoci use for gzip
// layers; multistream (concatenated members, RFC 1952 §2.2) is its default.
package main

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
)

func main() {
	r, err := gzip.NewReader(os.Stdin)
	if err == nil {
		_, err = io.Copy(os.Stdout, r)
	}
	if err == nil {
		err = r.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
