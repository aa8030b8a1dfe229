/* SPDX-License-Identifier: Apache-2.0 */
/* Mesh sink: nodes in a sorted array (binary search), a small ring of accepted counters each. */
#include "lw_mesh.h"
#include "lw_error.h"

#include <stdlib.h>
#include <string.h>

struct mesh_node {
    uint16_t addr;
    bool have_path;
    bool is_relay; /* appeared as a relay in an accepted frame */
    bool silent;   /* reported silent, not heard since */
    uint8_t nf;    /* counters in fcnts */
    uint8_t fhead; /* next slot */
    uint32_t fcnts[LW_MESH_DEDUP_DEPTH];
    int64_t last_heard; /* as source or as relay */
    struct lw_mesh_path path;
};

struct lw_mesh {
    struct lw_mesh_config cfg;
    struct lw_mesh_stats st;
    struct mesh_node *nodes;
    size_t n, cap;
};

void lw_mesh_config_defaults(struct lw_mesh_config *cfg)
{
    cfg->hop_limit_max = LW_MESH_HOP_LIMIT_DEFAULT;
    cfg->relay_silence_ms = LW_MESH_RELAY_SILENCE_DEFAULT;
}

struct lw_mesh *lw_mesh_new(const struct lw_mesh_config *cfg)
{
    if (cfg == NULL || cfg->hop_limit_max > LW_HOP_MAX)
        return NULL;
    struct lw_mesh *m = calloc(1, sizeof(*m));
    if (m)
        m->cfg = *cfg;
    return m;
}

void lw_mesh_free(struct lw_mesh *m)
{
    if (!m)
        return;
    free(m->nodes);
    free(m);
}

/* Index of addr, or where it would go (*found false). */
static size_t find(const struct lw_mesh *m, uint16_t addr, bool *found)
{
    size_t lo = 0, hi = m->n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->nodes[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < m->n && m->nodes[lo].addr == addr;
    return lo;
}

static struct mesh_node *get(struct lw_mesh *m, uint16_t addr)
{
    bool found;
    size_t i = find(m, addr, &found);

    if (found)
        return &m->nodes[i];
    if (m->n == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        struct mesh_node *nn = realloc(m->nodes, ncap * sizeof(*nn));
        if (!nn)
            return NULL;
        m->nodes = nn;
        m->cap = ncap;
    }
    memmove(&m->nodes[i + 1], &m->nodes[i], (m->n - i) * sizeof(*m->nodes));
    memset(&m->nodes[i], 0, sizeof(*m->nodes));
    m->nodes[i].addr = addr;
    m->n++;
    return &m->nodes[i];
}

static const struct mesh_node *lookup(const struct lw_mesh *m, uint16_t addr)
{
    bool found;
    size_t i = find(m, addr, &found);
    return found ? &m->nodes[i] : NULL;
}

static bool seen(const struct mesh_node *n, uint32_t fcnt)
{
    for (uint8_t i = 0; i < n->nf; i++) {
        if (n->fcnts[i] == fcnt)
            return true;
    }
    return false;
}

int lw_mesh_admit(struct lw_mesh *m, uint8_t *buf, size_t len, struct lw_mesh_frame *f)
{
    int rc;

    if (m == NULL || buf == NULL || f == NULL)
        return LW_ERR_INVAL;
    memset(f, 0, sizeof(*f));
    rc = lw_route_parse(buf, len, &f->route);
    if (rc != LW_OK) {
        /* A frame whose header itself is malformed is admission's to count (as "malformed");
         * the sink counts only the trailers it refuses, so each frame is counted once. */
        struct lw_frame_hdr hdr;
        if (lw_frame_peek(buf, len, &hdr) == LW_OK)
            m->st.bad_route++;
        return rc;
    }
    const struct lw_frame_hdr *h = &f->route.hdr;
    if (h->src == LW_ADDR_GATEWAY &&
        (h->type == LW_FT_ACK || h->type == LW_FT_CMD || h->type == LW_FT_JOIN_ACC)) {
        f->echo = true;
        m->st.echoes++;
        return LW_ERR_DUP;
    }
    if (h->hop_limit > m->cfg.hop_limit_max || h->hop_count > m->cfg.hop_limit_max) {
        m->st.hop_limit++;
        return LW_ERR_RANGE;
    }
    rc = lw_route_strip(buf, len);
    if (rc < 0) { /* cannot happen after a successful parse */
        m->st.bad_route++;
        return rc;
    }
    f->len = (size_t)rc;
    if (h->type != LW_FT_JOIN_REQ) {
        const struct mesh_node *n = lookup(m, h->src);
        if (n && seen(n, h->fcnt)) {
            m->st.duplicates++;
            f->copy = true;
            return LW_ERR_DUP;
        }
    }
    m->st.admitted++;
    return LW_OK;
}

static void heard(struct mesh_node *n, int64_t t)
{
    if (t > n->last_heard)
        n->last_heard = t;
}

int lw_mesh_accepted(struct lw_mesh *m, const struct lw_mesh_frame *f, const struct lw_mesh_rx *rx)
{
    const struct lw_route *rt = &f->route;
    struct mesh_node *n;

    if (m == NULL || f == NULL || rx == NULL)
        return LW_ERR_INVAL;
    /* Relays first: inserting moves the array, so the source is looked up last. */
    for (uint8_t i = 0; i < rt->n_hops; i++) {
        struct mesh_node *r = get(m, rt->hops[i].relay);
        if (!r)
            return LW_ERR_NOMEM;
        r->is_relay = true;
        heard(r, rx->mono_ms);
    }
    m->st.accepted++;
    if (rt->n_hops)
        m->st.relayed++;
    if (rt->hdr.type == LW_FT_JOIN_REQ || rt->hdr.src == LW_ADDR_BROADCAST)
        return LW_OK; /* no address yet: the joined node's first frame records its route */
    n = get(m, rt->hdr.src);
    if (!n)
        return LW_ERR_NOMEM;
    if (!seen(n, rt->hdr.fcnt)) {
        n->fcnts[n->fhead] = rt->hdr.fcnt;
        n->fhead = (uint8_t)((n->fhead + 1) % LW_MESH_DEDUP_DEPTH);
        if (n->nf < LW_MESH_DEDUP_DEPTH)
            n->nf++;
    }
    heard(n, rx->mono_ms);
    n->have_path = true;
    n->path.hops = rt->n_hops;
    memset(n->path.hop, 0, sizeof(n->path.hop));
    memcpy(n->path.hop, rt->hops, rt->n_hops * sizeof(rt->hops[0]));
    n->path.gw_rssi_x10 = rx->rssi_x10;
    n->path.gw_snr_x10 = rx->snr_x10;
    n->path.t_ms = rx->mono_ms;
    return LW_OK;
}

int lw_mesh_route(const struct lw_mesh *m, uint16_t node, struct lw_mesh_path *path)
{
    const struct mesh_node *n = m ? lookup(m, node) : NULL;

    if (!n || !n->have_path)
        return LW_ERR_NOTFOUND;
    *path = n->path;
    return LW_OK;
}

static bool through(const struct mesh_node *n, uint16_t relay)
{
    for (uint8_t i = 0; n->have_path && i < n->path.hops; i++) {
        if (n->path.hop[i].relay == relay)
            return true;
    }
    return false;
}

size_t lw_mesh_behind(const struct lw_mesh *m, uint16_t relay, uint16_t *out, size_t cap)
{
    size_t total = 0;

    for (size_t i = 0; m && i < m->n; i++) {
        if (!through(&m->nodes[i], relay))
            continue;
        if (total < cap)
            out[total] = m->nodes[i].addr;
        total++;
    }
    return total;
}

size_t lw_mesh_check_relays(struct lw_mesh *m, int64_t now_ms, lw_mesh_relay_fn fn, void *user)
{
    size_t calls = 0;
    uint16_t *behind = NULL;

    if (!m || !fn)
        return 0;
    for (size_t i = 0; i < m->n; i++) {
        struct mesh_node *r = &m->nodes[i];
        if (!r->is_relay)
            continue;
        bool quiet = now_ms - r->last_heard >= (int64_t)m->cfg.relay_silence_ms;
        if (quiet == r->silent)
            continue;
        r->silent = quiet;
        size_t nb = 0;
        if (quiet) {
            if (!behind)
                behind = malloc((m->n ? m->n : 1) * sizeof(*behind));
            nb = behind ? lw_mesh_behind(m, r->addr, behind, m->n) : 0;
        }
        fn(user, r->addr, quiet, behind, nb, r->last_heard);
        calls++;
    }
    free(behind);
    return calls;
}

void lw_mesh_relay_known(struct lw_mesh *m, uint16_t relay, int64_t last_heard_ms, bool silent)
{
    struct mesh_node *r = m ? get(m, relay) : NULL;
    if (!r || r->is_relay)
        return; /* already heard in this run: that knows better */
    r->is_relay = true;
    r->last_heard = last_heard_ms;
    r->silent = silent;
}

size_t lw_mesh_relay_count(const struct lw_mesh *m)
{
    size_t c = 0;

    for (size_t i = 0; m && i < m->n; i++)
        c += m->nodes[i].is_relay;
    return c;
}

void lw_mesh_stats(const struct lw_mesh *m, struct lw_mesh_stats *out)
{
    *out = m->st;
}
