package protocol

// Turn is one exchange in a thread: the user's input and the items it caused.
type Turn struct {
	ID         string        `json:"id"`
	RootTurnID *string       `json:"rootTurnId"`
	Items      []ThreadItem  `json:"items"`
	ItemsView  TurnItemsView `json:"itemsView"`
	Status     TurnStatus    `json:"status"`
	Error      *TurnError    `json:"error"`
	// StartedAt and CompletedAt are unix seconds.
	StartedAt   *int64 `json:"startedAt"`
	CompletedAt *int64 `json:"completedAt"`
	DurationMs  *int64 `json:"durationMs"`
}

// TurnStatus is where a turn is in its life.
type TurnStatus string

const (
	TurnCompleted   TurnStatus = "completed"
	TurnInterrupted TurnStatus = "interrupted"
	TurnFailed      TurnStatus = "failed"
	TurnInProgress  TurnStatus = "inProgress"
)

// EnumValues implements Enum.
func (TurnStatus) EnumValues() []string {
	return enumStrings([]TurnStatus{TurnCompleted, TurnInterrupted, TurnFailed, TurnInProgress})
}

// TurnItemsView says how much of a turn's items a message carries.
type TurnItemsView string

const (
	ItemsNotLoaded TurnItemsView = "notLoaded"
	ItemsSummary   TurnItemsView = "summary"
	ItemsFull      TurnItemsView = "full"
)

// EnumValues implements Enum.
func (TurnItemsView) EnumValues() []string {
	return enumStrings([]TurnItemsView{ItemsNotLoaded, ItemsSummary, ItemsFull})
}

// TurnError says why a turn failed.
type TurnError struct {
	Message           string  `json:"message"`
	AdditionalDetails *string `json:"additionalDetails"`
	// CodexErrorInfo classifies the error; null when no class applies.
	CodexErrorInfo *CodexErrorInfo `json:"codexErrorInfo"`
	// Misalignment explains a misalignment block; this server never
	// reports one and writes null.
	Misalignment *MisalignmentErrorDetails `json:"misalignment"`
}

// MisalignmentErrorDetails explains a misalignment block and how to go on.
type MisalignmentErrorDetails struct {
	ErrorType           *string            `json:"errorType"`
	DetailedExplanation *string            `json:"detailedExplanation"`
	ReviewTarget        *string            `json:"reviewTarget"`
	Steer               *MisalignmentSteer `json:"steer"`
}

// MisalignmentSteer is the input to send as the next turn to continue.
type MisalignmentSteer struct {
	Message string `json:"message"`
}
