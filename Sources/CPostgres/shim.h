#ifndef BATON_CPOSTGRES_SHIM_H
#define BATON_CPOSTGRES_SHIM_H

#include <libpq-fe.h>

#ifdef __linux__
// PostgresClient's SocketWatcher waits for every pooled connection's socket with epoll;
// Swift's Glibc module does not carry this header.
#include <sys/epoll.h>
#endif

#endif
