package platform

import (
	"encoding/json"
	"net/http"
)

// ProblemContentType is the media type of every error response (RFC 9457).
const ProblemContentType = "application/problem+json"

// ProblemTypePrefix starts the type URI of every problem: a tag URI (RFC
// 4151) is an identifier that never changes and is never fetched, which is
// all RFC 9457 asks of a type; docs/api.md lists the codes it ends with.
const ProblemTypePrefix = "tag:shop.example.com,2026:problem/"

// problemTitles are the fixed, human-readable summaries of each code: RFC
// 9457's title does not change between occurrences of a problem type, the
// detail does.
var problemTitles = map[string]string{
	"invalid_argument":       "Invalid argument",
	"not_found":              "Not found",
	"method_not_allowed":     "Method not allowed",
	"unauthenticated":        "Unauthenticated",
	"permission_denied":      "Permission denied",
	"conflict":               "Conflict",
	"misdirected":            "Misdirected request",
	"unprocessable":          "Unprocessable request",
	"too_many_requests":      "Too many requests",
	"overloaded":             "Overloaded",
	"unavailable":            "Unavailable",
	"internal":               "Internal error",
	"canceled":               "Request canceled",
	"unsupported_media_type": "Unsupported media type",
	"too_large":              "Request body too large",
	"precondition_required":  "Precondition required",
	"precondition_failed":    "Precondition failed",
}

// Problem is the body of every error response: RFC 9457's members, then
// this API's extensions. Field names the body field (a JSON path such as
// items[0].product_id), query or path parameter, or header at fault.
//
// Error repeats code, message and field in the shape the services answered
// with before they spoke RFC 9457 ({"error": {...}, "request_id"}), so
// callers reading it keep working; it is deprecated in the documents and
// goes away in a later version.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Code      string `json:"code"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	Error     *Error `json:"error"`
}

// NewProblem is the problem body for e, answered to a request with the id
// requestID.
func NewProblem(e *Error, requestID string) Problem {
	title := problemTitles[e.Code]
	if title == "" {
		title = http.StatusText(e.Status)
	}
	return Problem{
		Type: ProblemTypePrefix + e.Code, Title: title, Status: e.Status, Detail: e.Error(),
		Code: e.Code, Field: e.Field, RequestID: requestID, Error: e,
	}
}

// WriteProblem writes e as an application/problem+json response. Retry-After,
// if any, is the caller's to set (WriteError does).
func WriteProblem(w http.ResponseWriter, r *http.Request, e *Error) {
	if e.Status == 0 {
		e.Status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", ProblemContentType)
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(NewProblem(e, RequestID(r.Context())))
}
