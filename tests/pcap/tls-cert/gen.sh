set -e
# Two CAs: the Kaspersky interception root (its real issuer CN) and a benign test CA.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout kav-ca.key \
  -subj "/CN=Kaspersky Anti-Virus Personal Root Certificate" -days 3650 -out kav-ca.pem
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout test-ca.key \
  -subj "/C=US/O=Example Test/CN=Example Test CA" -days 3650 -out test-ca.pem
leaf() {  # name ca subject san serial
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
    -subj "$3" -out "$1.csr"
  printf 'subjectAltName=%s\n' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -set_serial "$5" -days 3650 \
    -extfile "$1.ext" -outform DER -out "$1.der"
}
leaf issuer-kav kav-ca "/CN=www.example.com" "DNS:www.example.com" 0x1001
leaf san-ksc test-ca "/CN=portal.example.net" "DNS:portal.example.net,DNS:ksc.kaspersky.com" 0x1002
leaf benign test-ca "/CN=www.example.org" "DNS:www.example.org,DNS:ksc.kaspersky.com.evil.example" 0x1003
openssl x509 -in kav-ca.pem -outform DER -out kav-ca.der
