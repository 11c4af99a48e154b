/* Stand-in for libgupnp-igd, loaded only into whip-client by whip-client-debian12.sh. Debian 12's
 * whip-client links libsoup2 while libnice pulls libsoup3 in through gupnp-igd, and libsoup aborts
 * when both load; a speaker's client needs no UPnP port mapping, so these four no-ops replace it. */
#include <stddef.h>
typedef unsigned long GType;
GType gupnp_simple_igd_get_type(void) { return 80; /* G_TYPE_OBJECT */ }
void *gupnp_simple_igd_thread_new(void) { return NULL; }
void gupnp_simple_igd_add_port(void *self, const char *protocol, unsigned int external_port, const char *local_ip, unsigned int local_port, unsigned int lease_duration, const char *description) {}
void gupnp_simple_igd_remove_port_local(void *self, const char *protocol, const char *local_ip, unsigned int local_port) {}
