//go:build ignore

// A small Go client for t_supervise_arch.sh, built with GOARCH=386: Go's
// linux/386 makes its socket calls through socketcall(2). The net package only
// (net/http would make the 386 build of the standard library take minutes).
//
//	dial HOST:PORT    net.Dial (a name resolved by Go's own resolver), sends
//	                  "hello\n", prints reply=<first line> (or err=...)
//	get HOST:PORT     the same with an HTTP/1.0 GET, prints body=<last line>
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: supervise_go386 dial|get HOST:PORT")
		os.Exit(2)
	}
	c, err := net.DialTimeout("tcp", os.Args[2], 5*time.Second)
	if err != nil {
		fmt.Printf("err=%v\n", err)
		os.Exit(1)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	if os.Args[1] == "dial" {
		c.Write([]byte("hello\n"))
		s, _ := r.ReadString('\n')
		fmt.Printf("reply=%s\n", strings.TrimSpace(s))
		return
	}
	fmt.Fprintf(c, "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", os.Args[2])
	last := ""
	for {
		s, err := r.ReadString('\n')
		if t := strings.TrimSpace(s); t != "" {
			last = t
		}
		if err != nil {
			break
		}
	}
	fmt.Printf("body=%s\n", last)
}
