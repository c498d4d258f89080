package synth

import (
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Whose CPU time CPUTime measures.
const (
	RusageSelf   = 0
	RusageThread = 1 // Linux RUSAGE_THREAD
)

// CPUTime returns the user plus system CPU seconds of the process
// (RusageSelf) or the calling thread (RusageThread).
func CPUTime(who int) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return math.NaN()
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// PeakRSSMB returns the process's peak resident set size (VmHWM) in MB.
func PeakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return math.NaN()
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return math.NaN()
}

// RMSE returns the root mean squared error of p against y.
func RMSE(p, y []float64) float64 {
	var s float64
	for i, v := range y {
		s += (p[i] - v) * (p[i] - v)
	}
	return math.Sqrt(s / float64(len(y)))
}

// ROCAUC is the Mann-Whitney AUC of score against 0/1 labels y, with ties
// counted half.
func ROCAUC(score, y []float64) float64 {
	idx := make([]int, len(y))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return score[idx[a]] < score[idx[b]] })
	var pos, neg, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && score[idx[j]] == score[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // mean 1-based rank of the tie group
		for _, k := range idx[i:j] {
			if y[k] == 1 {
				pos++
				rankSum += avg
			} else {
				neg++
			}
		}
		i = j
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}
