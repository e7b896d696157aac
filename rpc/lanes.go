package rpc

import (
	"sync"
)

// lanes runs queued jobs: jobs of one lane run one at a time in the order
// they were added; different lanes run concurrently. A lane's goroutine
// exists only while the lane has work, so idle threads cost nothing.
//
// The number of queued jobs across all lanes is bounded by limit: add
// refuses beyond it, which is how the server sheds load instead of growing
// without bound.
type lanes struct {
	limit int

	mu      sync.Mutex
	queued  int                 // jobs added and not yet finished; guarded by mu
	pending map[string][]func() // lane key -> jobs waiting; a key is present while its runner runs
	wg      sync.WaitGroup      // runners
}

func newLanes(limit int) *lanes {
	return &lanes{limit: limit, pending: make(map[string][]func())}
}

// add queues job on lane key. It never blocks; it reports false when the
// queue is full.
func (l *lanes) add(key string, job func()) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.queued >= l.limit {
		return false
	}
	l.queued++
	jobs, running := l.pending[key]
	l.pending[key] = append(jobs, job)
	if !running {
		l.wg.Add(1)
		go l.runLane(key)
	}
	return true
}

// runLane runs the jobs of one lane until it is empty.
func (l *lanes) runLane(key string) {
	defer l.wg.Done()
	for {
		l.mu.Lock()
		jobs := l.pending[key]
		if len(jobs) == 0 {
			delete(l.pending, key)
			l.mu.Unlock()
			return
		}
		job := jobs[0]
		jobs[0] = nil
		l.pending[key] = jobs[1:]
		l.mu.Unlock()

		job()

		l.mu.Lock()
		l.queued--
		l.mu.Unlock()
	}
}

// idle reports whether lane key has nothing queued or running. Only the
// goroutine that adds jobs may act on the answer: no job for key can appear
// until it adds one.
func (l *lanes) idle(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, running := l.pending[key]
	return !running
}

// wait blocks until every queued job has finished.
func (l *lanes) wait() { l.wg.Wait() }
