// A Go program shaped like `ollama serve` for bench/trace.sh: more busy goroutines than CPUs, in
// loops with no function calls, so that the runtime preempts them asynchronously with SIGURG (every
// 10 ms per goroutine), and a child process started the way Go starts them (clone + execve).
// It prints its own elapsed time: "elapsed_us U".
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

var sink [64]uint64

//go:noinline
func spin(slot int, n uint64) {
	x := uint64(slot)
	for i := uint64(0); i < n; i++ {
		x = x*6364136223846793005 + i
	}
	sink[slot] = x
}

func main() {
	goroutines, iterations := 8, uint64(40_000_000)
	if len(os.Args) > 1 {
		goroutines, _ = strconv.Atoi(os.Args[1])
	}
	start := time.Now()
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(slot int) {
			defer wg.Done()
			spin(slot, iterations)
		}(g)
	}
	wg.Wait()
	if err := exec.Command("/bin/true").Run(); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	fmt.Printf("elapsed_us %d\n", time.Since(start).Microseconds())
}
