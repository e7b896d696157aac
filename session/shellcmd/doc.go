// Package shellcmd reads shell command lines with a real shell parser
// (mvdan.cc/sh/v3/syntax): what a line shows (ParseCommandActions: reads,
// listings, searches), whether it is known read-only (Classify, and
// InertRepository for git), its argv when it is one plain command
// (SplitArgv), and every simple command it runs (SimpleCommands, for
// forbidden prefix rules). All but InertRepository are pure functions.
package shellcmd
