/*
 * Debian's libmicrohttpd is built with HTTPS support, so its archive
 * refers to GnuTLS, whose own constructors (and p11-kit's) would cost the
 * primary about 3 MiB of memory at start-up. The endpoint never turns
 * TLS on (no MHD_USE_TLS), so the programs we link take these stand-ins
 * instead: initialisation succeeds, everything else fails, and nothing
 * but MHD's constructor ever calls them. Only linked with the static
 * libmicrohttpd.a; libzcluster.so uses the real libmicrohttpd.so.
 */
#include <stdlib.h>

#define ZC_NOTLS_FAIL(name) \
    int name(void);         \
    int name(void) { return -50; /* GNUTLS_E_INVALID_REQUEST */ }

void *(*gnutls_malloc)(size_t) = malloc;

int gnutls_global_init(void);
int gnutls_global_init(void)
{
    return 0;
}

void gnutls_global_deinit(void);
void gnutls_global_deinit(void)
{
}

ZC_NOTLS_FAIL(gnutls_alpn_set_protocols)
ZC_NOTLS_FAIL(gnutls_bye)
ZC_NOTLS_FAIL(gnutls_certificate_allocate_credentials)
ZC_NOTLS_FAIL(gnutls_certificate_free_credentials)
ZC_NOTLS_FAIL(gnutls_certificate_server_set_request)
ZC_NOTLS_FAIL(gnutls_certificate_set_dh_params)
ZC_NOTLS_FAIL(gnutls_certificate_set_retrieve_function2)
ZC_NOTLS_FAIL(gnutls_certificate_set_retrieve_function3)
ZC_NOTLS_FAIL(gnutls_certificate_set_x509_key_mem)
ZC_NOTLS_FAIL(gnutls_certificate_set_x509_key_mem2)
ZC_NOTLS_FAIL(gnutls_certificate_set_x509_trust_mem)
ZC_NOTLS_FAIL(gnutls_cipher_get)
ZC_NOTLS_FAIL(gnutls_credentials_set)
ZC_NOTLS_FAIL(gnutls_deinit)
ZC_NOTLS_FAIL(gnutls_dh_params_deinit)
ZC_NOTLS_FAIL(gnutls_dh_params_import_pkcs3)
ZC_NOTLS_FAIL(gnutls_dh_params_init)
ZC_NOTLS_FAIL(gnutls_handshake)
ZC_NOTLS_FAIL(gnutls_init)
ZC_NOTLS_FAIL(gnutls_priority_deinit)
ZC_NOTLS_FAIL(gnutls_priority_init)
ZC_NOTLS_FAIL(gnutls_priority_set)
ZC_NOTLS_FAIL(gnutls_protocol_get_version)
ZC_NOTLS_FAIL(gnutls_psk_allocate_server_credentials)
ZC_NOTLS_FAIL(gnutls_psk_free_server_credentials)
ZC_NOTLS_FAIL(gnutls_psk_set_server_credentials_function)
ZC_NOTLS_FAIL(gnutls_record_check_pending)
ZC_NOTLS_FAIL(gnutls_record_get_direction)
ZC_NOTLS_FAIL(gnutls_record_recv)
ZC_NOTLS_FAIL(gnutls_record_send)
ZC_NOTLS_FAIL(gnutls_session_get_ptr)
ZC_NOTLS_FAIL(gnutls_session_set_ptr)
ZC_NOTLS_FAIL(gnutls_strerror)
ZC_NOTLS_FAIL(gnutls_transport_set_int2)
