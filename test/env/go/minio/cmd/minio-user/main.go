// Command minio-user creates a MinIO user whose only rights are on one bucket. MinIO's admin API encrypts
// request bodies with the root secret, so the test environment calls MinIO's own admin client instead of
// re-implementing that protocol in TypeScript.
//
// Usage: minio-user ENDPOINT ROOT_ACCESS ROOT_SECRET USER_ACCESS USER_SECRET BUCKET
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/minio/madmin-go/v3"
)

func main() {
	if len(os.Args) != 7 {
		fmt.Fprintln(os.Stderr, "usage: minio-user ENDPOINT ROOT_ACCESS ROOT_SECRET USER_ACCESS USER_SECRET BUCKET")
		os.Exit(2)
	}
	endpoint, rootAccess, rootSecret, user, secret, bucket := os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5], os.Args[6]
	if err := run(endpoint, rootAccess, rootSecret, user, secret, bucket); err != nil {
		fmt.Fprintln(os.Stderr, "minio-user:", err)
		os.Exit(1)
	}
}

func run(endpoint, rootAccess, rootSecret, user, secret, bucket string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm, err := madmin.New(endpoint, rootAccess, rootSecret, false)
	if err != nil {
		return err
	}
	// The Object Lock actions (#15; OBJECT-LOCK-NOTES.md): the location's check reads the bucket's lock
	// configuration, deletions on a lock location list versions, ask each version's retention and delete
	// by version id, and the backup Job writes retention.
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[`+
		`{"Effect":"Allow","Action":["s3:ListBucket","s3:GetBucketLocation","s3:ListBucketMultipartUploads","s3:GetBucketObjectLockConfiguration","s3:ListBucketVersions"],"Resource":["arn:aws:s3:::%[1]s"]},`+
		`{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:DeleteObject","s3:AbortMultipartUpload","s3:ListMultipartUploadParts","s3:PutObjectRetention","s3:GetObjectRetention","s3:DeleteObjectVersion","s3:GetObjectVersion"],"Resource":["arn:aws:s3:::%[1]s/*"]}]}`, bucket)
	name := "only-" + bucket
	if err := adm.AddCannedPolicy(ctx, name, []byte(policy)); err != nil {
		return fmt.Errorf("add policy: %w", err)
	}
	if err := adm.AddUser(ctx, user, secret); err != nil {
		return fmt.Errorf("add user: %w", err)
	}
	if _, err := adm.AttachPolicy(ctx, madmin.PolicyAssociationReq{Policies: []string{name}, User: user}); err != nil {
		return fmt.Errorf("attach policy: %w", err)
	}
	return nil
}
