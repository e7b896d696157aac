package sandbox

import (
	"os"
	"runtime"
)

// In a command stage the main goroutine keeps the main thread, the
// thread group leader, for the process's life (LockOSThread in an init
// function holds it there: the runtime runs inits on the main thread).
// Otherwise a launcher goroutine (restrict_linux.go) could lock the
// leader, restrict it with the command's Landlock domain and leave it so
// when it ends (the leader never exits): a signal to the stage's pid
// would then be checked against that domain, and the command could stop
// or kill its stage despite Landlock's signal scoping.
func init() {
	if len(os.Args) > 1 && os.Args[1] == stageArg {
		runtime.LockOSThread()
	}
}
