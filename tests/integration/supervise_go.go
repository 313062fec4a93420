// A Go client for t_supervise*.sh: Go makes its system calls itself, so only
// the seccomp supervisor can route them. Built by the test with `go build`.
//
//	get URL           http.Get, prints body=<first line>
//	dial HOST:PORT    net.Dial, prints reply=<first line> and remote=<RemoteAddr> (or err=...)
//	many N HOST:PORT  N dials at once, prints ok=<count> err=<first error>
//	exec PROG ARGS... runs PROG (a child process), prints its output
//	twice HOST:PORT   dials, prints reply1=, waits for a line on stdin, dials again (reply2=)
//	udp HOST:PORT     net.Dial("udp"), one datagram, prints reply= and remote= (or err=)
//	udpto HOST:PORT   an unconnected UDP socket: WriteTo, ReadFrom, prints reply= (or err=)
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

func line(r io.Reader) string {
	s, _ := bufio.NewReader(r).ReadString('\n')
	return strings.TrimSpace(s)
}

var remote string // the last connection's RemoteAddr (getpeername)

func dial(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	remote = c.RemoteAddr().String()
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("hello\n"))
	return line(c), nil
}

// One datagram to ADDR and its answer, on a connected socket or with WriteTo.
func datagram(connected bool, addr string) (string, error) {
	buf := make([]byte, 1500)
	if connected {
		c, err := net.Dial("udp", addr)
		if err != nil {
			return "", err
		}
		defer c.Close()
		remote = c.RemoteAddr().String()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err = c.Write([]byte("hello\n")); err != nil {
			return "", err
		}
		n, err := c.Read(buf)
		return strings.TrimSpace(string(buf[:n])), err
	}
	to, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return "", err
	}
	c, err := net.ListenPacket("udp", ":0")
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err = c.WriteTo([]byte("hello\n"), to); err != nil {
		return "", err
	}
	n, _, err := c.ReadFrom(buf)
	return strings.TrimSpace(string(buf[:n])), err
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: supervise_go get URL | dial ADDR | many N ADDR | exec PROG...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "get":
		c := &http.Client{Timeout: 5 * time.Second}
		r, err := c.Get(os.Args[2])
		if err != nil {
			fmt.Printf("err=%v\n", err)
			os.Exit(1)
		}
		defer r.Body.Close()
		fmt.Printf("body=%s\n", line(r.Body))
	case "dial":
		s, err := dial(os.Args[2])
		if err != nil {
			fmt.Printf("err=%v\n", err)
			os.Exit(1)
		}
		fmt.Printf("reply=%s\nremote=%s\n", s, remote)
	case "many":
		n, _ := strconv.Atoi(os.Args[2])
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, first := 0, ""
		start := time.Now()
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := dial(os.Args[3])
				mu.Lock()
				defer mu.Unlock()
				if err == nil && s != "" {
					ok++
				} else if first == "" && err != nil {
					first = err.Error()
				}
			}()
		}
		wg.Wait()
		fmt.Printf("ok=%d\nerr=%s\nms=%d\n", ok, first, time.Since(start).Milliseconds())
		if ok != n {
			os.Exit(1)
		}
	case "udp", "udpto":
		s, err := datagram(os.Args[1] == "udp", os.Args[2])
		if err != nil {
			fmt.Printf("err=%v\n", err)
			os.Exit(1)
		}
		fmt.Printf("reply=%s\nremote=%s\n", s, remote)
	case "twice":
		s, err := dial(os.Args[2])
		fmt.Printf("reply1=%s err1=%v\n", s, err)
		line(os.Stdin)
		s, err = dial(os.Args[2])
		fmt.Printf("reply2=%s err2=%v\n", s, err)
	case "exec":
		out, err := exec.Command(os.Args[2], os.Args[3:]...).CombinedOutput()
		fmt.Print(string(out))
		if err != nil {
			fmt.Printf("childerr=%v\n", err)
			os.Exit(1)
		}
	}
}
