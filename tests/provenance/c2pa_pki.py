"""A throw-away C2PA test PKI, generated with ``cryptography`` (no fixtures on disk, no network).

``make_pki()`` returns a root CA, an intermediate CA and an end-entity claim-signing
certificate with the extensions c2pa-rs checks (ES256, P-256 keys):

* CAs: ``basicConstraints CA:TRUE`` (critical), ``keyUsage keyCertSign cRLSign`` (critical),
  subject/authority key identifiers;
* end entity: ``basicConstraints CA:FALSE``, ``keyUsage digitalSignature`` (critical),
  ``extendedKeyUsage`` emailProtection + documentSigning (no anyExtendedKeyUsage), key ids.

Each call generates fresh keys, so a second call gives an "untrusted" chain whose root is not
in the first one's trust list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# id-kp-documentSigning (RFC 9336), one of the EKUs c2pa-rs accepts for claim signing.
_DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")


@dataclass(frozen=True)
class Pki:
    """PEM material of one generated chain."""

    root_pem: bytes
    intermediate_pem: bytes
    signer_pem: bytes
    signer_key_pem: bytes
    signer_cn: str
    issuer_cn: str

    @property
    def chain_pem(self) -> bytes:
        """End entity first, then the intermediate (the root is the trust anchor, not sent)."""
        return self.signer_pem + self.intermediate_pem


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "synthguard tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _ca_extensions(
    builder: x509.CertificateBuilder, key: ec.EllipticCurvePrivateKey, path_length: int | None
) -> x509.CertificateBuilder:
    return (
        builder.add_extension(x509.BasicConstraints(ca=True, path_length=path_length), True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def make_pki(prefix: str = "synthguard test") -> Pki:
    """Generate root -> intermediate -> signer, valid from yesterday for 30 days."""
    now = dt.datetime.now(dt.UTC)
    not_before, not_after = now - dt.timedelta(days=1), now + dt.timedelta(days=30)
    root_key = ec.generate_private_key(ec.SECP256R1())
    int_key = ec.generate_private_key(ec.SECP256R1())
    ee_key = ec.generate_private_key(ec.SECP256R1())
    root_cn, int_cn, ee_cn = f"{prefix} root CA", f"{prefix} intermediate CA", f"{prefix} signer"

    root = _ca_extensions(
        x509.CertificateBuilder()
        .subject_name(_name(root_cn))
        .issuer_name(_name(root_cn))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after),
        root_key,
        1,
    ).sign(root_key, hashes.SHA256())

    root_ski = x509.SubjectKeyIdentifier.from_public_key(root_key.public_key())
    intermediate = (
        _ca_extensions(
            x509.CertificateBuilder()
            .subject_name(_name(int_cn))
            .issuer_name(root.subject)
            .public_key(int_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after),
            int_key,
            0,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski), False
        )
        .sign(root_key, hashes.SHA256())
    )

    int_ski = x509.SubjectKeyIdentifier.from_public_key(int_key.public_key())
    signer = (
        x509.CertificateBuilder()
        .subject_name(_name(ee_cn))
        .issuer_name(intermediate.subject)
        .public_key(ee_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, _DOCUMENT_SIGNING]),
            False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ee_key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(int_ski), False
        )
        .sign(int_key, hashes.SHA256())
    )

    key_pem = ee_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return Pki(
        root_pem=_pem(root),
        intermediate_pem=_pem(intermediate),
        signer_pem=_pem(signer),
        signer_key_pem=key_pem,
        signer_cn=ee_cn,
        issuer_cn=int_cn,
    )
