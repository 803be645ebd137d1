#ifndef BATON_CPOSTGRES_SHIM_H
#define BATON_CPOSTGRES_SHIM_H

#include <libpq-fe.h>

#endif
