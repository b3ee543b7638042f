// Writes a tar with Go's archive/tar from a JSON list of headers on stdin, each with
// Format: tar.FormatPAX as containerd's and moby's archive writers set it; the reference
// that go-archive-tar.test.ts compares kiln's writer against.
package main

import (
	"archive/tar"
	"encoding/base64"
	"encoding/json"
	"os"
	"time"
)

type entry struct {
	Name     string            `json:"name"`
	Type     byte              `json:"type"`
	Mode     int64             `json:"mode"`
	Uid      int               `json:"uid"`
	Gid      int               `json:"gid"`
	Mtime    int64             `json:"mtime"`
	Linkname string            `json:"linkname"`
	Body     string            `json:"body"`
	Devmajor int64             `json:"devmajor"`
	Devminor int64             `json:"devminor"`
	Xattrs   map[string]string `json:"xattrs"`
}

func main() {
	var entries []entry
	if err := json.NewDecoder(os.Stdin).Decode(&entries); err != nil {
		panic(err)
	}
	tw := tar.NewWriter(os.Stdout)
	for _, e := range entries {
		body, err := base64.StdEncoding.DecodeString(e.Body)
		if err != nil {
			panic(err)
		}
		hdr := &tar.Header{Typeflag: e.Type, Name: e.Name, Linkname: e.Linkname, Size: int64(len(body)), Mode: e.Mode,
			Uid: e.Uid, Gid: e.Gid, ModTime: time.Unix(e.Mtime, 0), Devmajor: e.Devmajor, Devminor: e.Devminor,
			Format: tar.FormatPAX}
		if len(e.Xattrs) > 0 {
			hdr.PAXRecords = map[string]string{}
			for k, v := range e.Xattrs {
				value, err := base64.StdEncoding.DecodeString(v)
				if err != nil {
					panic(err)
				}
				hdr.PAXRecords["SCHILY.xattr."+k] = string(value)
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			panic(err)
		}
		if _, err := tw.Write(body); err != nil {
			panic(err)
		}
	}
	if err := tw.Close(); err != nil {
		panic(err)
	}
}
