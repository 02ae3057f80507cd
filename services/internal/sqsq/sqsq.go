// Package sqsq is a small SQS client over the query protocol (form-encoded
// requests, XML answers), signed with the AWS SDK's SigV4 signer.
//
// Why not the SDK's SQS client: since late 2023 it only speaks the JSON
// protocol, while the SNS/SQS emulator the tests run against (goaws v0.4.5,
// the newest the module proxy serves) only speaks query; and the last SDK
// client that spoke query no longer works with the current SDK core. SQS
// itself still serves the query protocol, so this client is what runs in
// production too. It covers what the services and tests use.
package sqsq

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const apiVersion = "2012-11-05"

// Client calls SQS.
type Client struct {
	creds    aws.CredentialsProvider
	region   string
	endpoint string // empty: the regional SQS endpoint
	http     *http.Client
	signer   *v4.Signer
}

// New returns a client for cfg's region and credentials. endpoint overrides
// the service address (an emulator); empty uses the regional endpoint.
func New(cfg aws.Config, endpoint string) *Client {
	return &Client{
		creds: cfg.Credentials, region: cfg.Region, endpoint: strings.TrimSuffix(endpoint, "/"),
		// Long polls last up to 20 s; the timeout sits above that.
		http:   &http.Client{Timeout: 40 * time.Second},
		signer: v4.NewSigner(),
	}
}

// Error is an error answer from SQS.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("sqs: %s (%d): %s", e.Code, e.Status, e.Message)
}

// Message is a received message.
type Message struct {
	MessageID     string `xml:"MessageId"`
	ReceiptHandle string `xml:"ReceiptHandle"`
	Body          string `xml:"Body"`
	MD5OfBody     string `xml:"MD5OfBody"`
	Attributes    []struct {
		Name  string `xml:"Name"`
		Value string `xml:"Value"`
	} `xml:"Attribute"`
}

// ReceiveCount is how often the message has been received, 0 if unknown.
func (m Message) ReceiveCount() int {
	for _, a := range m.Attributes {
		if a.Name == "ApproximateReceiveCount" {
			n, _ := strconv.Atoi(a.Value)
			return n
		}
	}
	return 0
}

func (c *Client) do(ctx context.Context, action string, params url.Values, out any) error {
	params.Set("Action", action)
	params.Set("Version", apiVersion)
	body := params.Encode()
	endpoint := c.endpoint
	if endpoint == "" {
		endpoint = "https://sqs." + c.region + ".amazonaws.com"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("sqs: credentials: %w", err)
	}
	sum := sha256.Sum256([]byte(body))
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "sqs", c.region, time.Now()); err != nil {
		return fmt.Errorf("sqs: sign: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("sqs %s: %w", action, err)
	}
	defer func() { _ = resp.Body.Close() }() // a read-only body: nothing to report
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("sqs %s: read: %w", action, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct {
				Code    string `xml:"Code"`
				Message string `xml:"Message"`
			} `xml:"Error"`
		}
		_ = xml.Unmarshal(raw, &e)
		if e.Error.Code == "" {
			e.Error.Code = http.StatusText(resp.StatusCode)
			e.Error.Message = strings.TrimSpace(string(raw))
		}
		return &Error{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
	}
	if out != nil {
		if err := xml.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("sqs %s: decode: %w", action, err)
		}
	}
	return nil
}

// ReceiveInput are the ReceiveMessage parameters.
type ReceiveInput struct {
	QueueURL          string
	MaxMessages       int
	WaitSeconds       int
	VisibilitySeconds int
}

// Receive long-polls for up to MaxMessages messages.
func (c *Client) Receive(ctx context.Context, in ReceiveInput) ([]Message, error) {
	p := url.Values{"QueueUrl": {in.QueueURL}, "AttributeName.1": {"ApproximateReceiveCount"}}
	if in.MaxMessages > 0 {
		p.Set("MaxNumberOfMessages", strconv.Itoa(in.MaxMessages))
	}
	p.Set("WaitTimeSeconds", strconv.Itoa(in.WaitSeconds))
	if in.VisibilitySeconds > 0 {
		p.Set("VisibilityTimeout", strconv.Itoa(in.VisibilitySeconds))
	}
	var out struct {
		Messages []Message `xml:"ReceiveMessageResult>Message"`
	}
	if err := c.do(ctx, "ReceiveMessage", p, &out); err != nil {
		return nil, err
	}
	for _, m := range out.Messages {
		sum := md5Hex(m.Body)
		if m.MD5OfBody != "" && !strings.EqualFold(sum, m.MD5OfBody) {
			return nil, fmt.Errorf("sqs: message %s body checksum mismatch", m.MessageID)
		}
	}
	return out.Messages, nil
}

// Delete removes a message after it was handled.
func (c *Client) Delete(ctx context.Context, queueURL, receiptHandle string) error {
	return c.do(ctx, "DeleteMessage", url.Values{"QueueUrl": {queueURL}, "ReceiptHandle": {receiptHandle}}, nil)
}

// Send enqueues a message and returns its id.
func (c *Client) Send(ctx context.Context, queueURL, body string) (string, error) {
	var out struct {
		MessageID string `xml:"SendMessageResult>MessageId"`
	}
	err := c.do(ctx, "SendMessage", url.Values{"QueueUrl": {queueURL}, "MessageBody": {body}}, &out)
	return out.MessageID, err
}

// CreateQueue creates a queue (or returns the existing one) with attributes
// such as VisibilityTimeout and RedrivePolicy.
func (c *Client) CreateQueue(ctx context.Context, name string, attrs map[string]string) (string, error) {
	p := url.Values{"QueueName": {name}}
	i := 1
	for k, v := range attrs {
		p.Set(fmt.Sprintf("Attribute.%d.Name", i), k)
		p.Set(fmt.Sprintf("Attribute.%d.Value", i), v)
		i++
	}
	var out struct {
		QueueURL string `xml:"CreateQueueResult>QueueUrl"`
	}
	if err := c.do(ctx, "CreateQueue", p, &out); err != nil {
		return "", err
	}
	if out.QueueURL == "" {
		return "", errors.New("sqs: CreateQueue returned no QueueUrl")
	}
	return out.QueueURL, nil
}

// Attributes returns the named queue attributes ("All" for every one).
func (c *Client) Attributes(ctx context.Context, queueURL string, names ...string) (map[string]string, error) {
	p := url.Values{"QueueUrl": {queueURL}}
	for i, n := range names {
		p.Set(fmt.Sprintf("AttributeName.%d", i+1), n)
	}
	var out struct {
		Attrs []struct {
			Name  string `xml:"Name"`
			Value string `xml:"Value"`
		} `xml:"GetQueueAttributesResult>Attribute"`
	}
	if err := c.do(ctx, "GetQueueAttributes", p, &out); err != nil {
		return nil, err
	}
	m := make(map[string]string, len(out.Attrs))
	for _, a := range out.Attrs {
		m[a.Name] = a.Value
	}
	return m, nil
}
