package sqsq

import (
	"crypto/md5" //nolint:gosec // SQS's own body checksum, not used for security
	"encoding/hex"
)

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s)) //nolint:gosec // SQS checksum, not security
	return hex.EncodeToString(sum[:])
}
