/* The media hub's compiled inner loop (issue 20): every call's RTP in one C call per tick.
 *
 * One ``Core`` holds, per slot (one call leg), the RTP socket's descriptor,
 * the sender state (SSRC, sequence number, timestamp, marker, destination),
 * the symmetric-RTP address latch, RFC 3550 A.1 source validation, the
 * reception statistics of A.1/A.8 (for RTCP), the jitter buffer ring and the
 * per-leg counters, all in preallocated C memory: no Python object per
 * received packet.  It mirrors the pure implementation in
 * ``bailanys/media/core.py`` line for line (tests/media/test_core.py feeds both
 * the same packets and compares what comes out).
 *
 * Per tick the hub calls ``send`` (header build + sendto per call socket),
 * ``drain`` (recvmmsg on every call socket, non-blocking: the sockets are
 * not registered with the event loop), then ``pop`` (one frame per slot out
 * of the jitter buffers, G.711-decoded into an (n, 160) int16 array, with
 * the in-band DTMF gate).  Rare packets (RTCP multiplexed on the RTP
 * port, RFC 4733 telephone-events, audio while an event is open, a source
 * takeover) are queued as tuples for Python, in arrival order.  Each leg's RTCP
 * port (RTP + 1) is in the core's own epoll set: ``drain`` reads the ports that
 * have something (one epoll_wait per tick, whatever the number of calls) and hands
 * their reports to Python with the kernel's arrival time; the ports are never
 * registered with the event loop either.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <time.h>

#define FRAME 160          /* G.711 bytes (and samples) of a 20 ms frame */
#define RING_MAX 64        /* jitter ring slots at most (the engine uses 16) */
#define MAX_DROPOUT 3000   /* jitter.py */
#define MAX_MISORDER 100
#define SEQ_MOD 65536
#define BATCH 16           /* datagrams per recvmmsg call */
#define MAXPKT 2048
#define RTCP_EVENTS 64     /* ready RTCP ports taken per epoll_wait */

enum { C_SENT, C_RECEIVED, C_RTCP, C_GARBAGE, C_FOREIGN, C_UNVALIDATED, C_UNKNOWN_PT,
       C_EVENTS_SENT, N_COUNTERS };
enum { J_RECEIVED, J_DUPLICATES, J_LATE, J_OVERFLOW, J_LOST, J_UNDERRUNS, J_RESETS, N_JSTATS };
enum { R_RTCP = 0, R_EVENT = 1, R_AUDIO_TS = 2, R_SOURCE = 3, R_RTCP_PORT = 4 };

typedef struct {
    uint8_t has;
    uint16_t len;             /* the payload's real length (only FRAME bytes kept) */
    uint8_t data[FRAME];
} Entry;

typedef struct {
    int fd;
    int rtcp_fd;              /* the RTCP port's socket (RTP + 1), -1: none */
    /* receive configuration */
    int audio_pt, dtmf_pt, alaw, inband, watch, symmetric;
    /* address latch (RFC 4961) */
    int latched;
    struct sockaddr_storage latch;
    socklen_t latch_len;
    /* source validation (srcval.py) */
    int64_t rx_ssrc;          /* -1: none */
    int64_t sv_ssrc, sv_cand; /* -1: none */
    int sv_count, sv_min;
    uint16_t sv_next;
    int64_t sv_mark, takeovers;
    /* reception statistics (rtcp.py ReceptionStats.update) */
    int64_t st_ssrc, st_base, st_max, st_cycles, st_received, st_gen;
    double st_jitter, st_transit;
    int st_has_transit;
    /* jitter buffer (jitter.py) */
    int cap, mask, prefetch, head_valid, count, playing;
    uint16_t head, tail;
    int64_t j_ssrc;           /* -1: none */
    int64_t jstats[N_JSTATS];
    Entry *ring;              /* cap entries, allocated apart: the slots' hot fields stay
                               * dense (one tick walks every slot three times) */
    /* sender */
    uint32_t ssrc, ts;
    uint16_t seq;
    int marker, sending, has_remote;
    struct sockaddr_storage remote;
    socklen_t remote_len;
    int64_t counters[N_COUNTERS];
    /* the player's cursor (player.py): frames of ``play`` from ``play_pos`` to ``play_end`` */
    PyObject *play;           /* bytes, or NULL: silence */
    Py_ssize_t play_pos, play_end;
    uint8_t silence;          /* the codec's code of a zero sample */
    int pymode;               /* Python sends this leg's frames (bridge, recorder, events) */
} Slot;

typedef struct {
    PyObject_HEAD
    Py_ssize_t capacity;
    Slot **slots;             /* NULL where closed */
    Py_ssize_t hi;            /* one past the highest open slot */
    PyObject *rare;           /* list of tuples for Python */
    int epfd;                 /* the RTCP ports (one epoll set, never the event loop's) */
    int16_t ulaw[256], alaw[256];
    float basis[FRAME * 16]; /* cos/sin of the 8 DTMF tones per sample (goertzel.py scale) */
} Core;

/* ------------------------------------------------------------------ helpers */

static Slot *get_slot(Core *self, Py_ssize_t i) {
    if (i < 0 || i >= self->capacity || self->slots[i] == NULL) {
        PyErr_Format(PyExc_IndexError, "slot %zd is not open", i);
        return NULL;
    }
    return self->slots[i];
}

/* The slot's RTCP socket leaves the epoll set (before its owner closes it). */
static void forget_rtcp(Core *self, Slot *s) {
    if (s->rtcp_fd >= 0) (void)epoll_ctl(self->epfd, EPOLL_CTL_DEL, s->rtcp_fd, NULL);
    s->rtcp_fd = -1;
}

static int seq_diff(int a, int b) { return ((a - b + 0x8000) & 0xFFFF) - 0x8000; }

static int addr_from_tuple(PyObject *addr, struct sockaddr_storage *out, socklen_t *len) {
    const char *host;
    int port;
    if (!PyArg_ParseTuple(addr, "si", &host, &port)) return -1;
    memset(out, 0, sizeof(*out));
    struct sockaddr_in *a4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *len = sizeof(*a4);
        return 1;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*a6);
        return 1;
    }
    return 0; /* not a numeric address */
}

static PyObject *addr_to_tuple(const struct sockaddr_storage *sa) {
    char host[INET6_ADDRSTRLEN];
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &a4->sin_addr, host, sizeof(host));
        return Py_BuildValue("(si)", host, ntohs(a4->sin_port));
    }
    const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa;
    inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof(host));
    /* asyncio and socket.recvfrom give 4-tuples for IPv6 */
    return Py_BuildValue("(siII)", host, ntohs(a6->sin6_port), ntohl(a6->sin6_flowinfo),
                         a6->sin6_scope_id);
}

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
    if (a->ss_family != b->ss_family) return 0;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *)a;
        const struct sockaddr_in *y = (const struct sockaddr_in *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
    const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;
    return x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

static int push_rare(Core *self, PyObject *item) {
    if (item == NULL) return -1;
    int rc = PyList_Append(self->rare, item);
    Py_DECREF(item);
    return rc;
}

/* ------------------------------------------------------------------ source validation */

static void sv_take(Slot *s, int64_t ssrc) {
    s->sv_ssrc = ssrc;
    s->sv_cand = -1;
    s->sv_count = 0;
}

static int sv_admit(Slot *s, int64_t ssrc, int seq, int64_t mark) {
    if (ssrc == s->sv_ssrc) return 1;
    if (s->sv_ssrc < 0) {
        sv_take(s, ssrc);
        return 1;
    }
    if (ssrc != s->sv_cand || seq != s->sv_next || mark != s->sv_mark) {
        s->sv_cand = ssrc;
        s->sv_count = 1;
    } else {
        s->sv_count += 1;
    }
    s->sv_next = (uint16_t)((seq + 1) & 0xFFFF);
    s->sv_mark = mark;
    if (s->sv_count >= s->sv_min) {
        s->takeovers += 1;
        sv_take(s, ssrc);
        return 1;
    }
    return 0;
}

/* session.py _new_source: -1 on a Python error, 0 dropped, 1 admitted */
static int new_source(Core *self, Py_ssize_t i, Slot *s, int64_t ssrc, int seq) {
    int64_t previous = s->sv_ssrc;
    if (!sv_admit(s, ssrc, seq, s->counters[C_RECEIVED])) {
        s->counters[C_UNVALIDATED] += 1;
        return 0;
    }
    s->rx_ssrc = ssrc;
    if (previous >= 0) {
        if (push_rare(self, Py_BuildValue("(inLL)", R_SOURCE, i, (long long)previous,
                                          (long long)ssrc)) < 0)
            return -1;
    }
    return 1;
}

/* ------------------------------------------------------------------ reception statistics */

static void rx_update(Slot *s, int64_t ssrc, int seq, uint32_t ts, double arrival) {
    if (ssrc != s->st_ssrc) {
        s->st_ssrc = ssrc;
        s->st_base = s->st_max = seq;
        s->st_cycles = s->st_received = 0;
        s->st_has_transit = 0;
        s->st_jitter = 0.0;
        s->st_gen += 1;
    } else if (seq < s->st_max && s->st_max - seq > SEQ_MOD / 2) {
        s->st_cycles += SEQ_MOD;
        s->st_max = seq;
    } else if (seq > s->st_max && seq - s->st_max < SEQ_MOD / 2) {
        s->st_max = seq;
    }
    s->st_received += 1;
    double transit = arrival * 8000.0 - (double)ts;
    if (s->st_has_transit) {
        double d = fabs(transit - s->st_transit);
        s->st_jitter += (d - s->st_jitter) / 16.0;
    }
    s->st_transit = transit;
    s->st_has_transit = 1;
}

/* ------------------------------------------------------------------ jitter buffer */

static void jb_reset(Slot *s) {
    for (int k = 0; k < s->cap; k++) s->ring[k].has = 0;
    s->head_valid = 0;
    s->count = 0;
    s->j_ssrc = -1;
    s->playing = 0;
}

static void jb_store(Slot *s, int seq, const uint8_t *payload, Py_ssize_t n) {
    Entry *e = &s->ring[seq & s->mask];
    e->has = 1;
    e->len = (uint16_t)(n > 0xFFFF ? 0xFFFF : n);
    memcpy(e->data, payload, n < FRAME ? (size_t)n : FRAME);
    s->count += 1;
    s->jstats[J_RECEIVED] += 1;
    if (s->count == 1 || seq_diff(seq + 1, s->tail) > 0) s->tail = (uint16_t)((seq + 1) & 0xFFFF);
}

static void jb_slide(Slot *s, int seq) {
    int new_head = (seq - s->cap + 1) & 0xFFFF;
    int steps = seq_diff(new_head, s->head);
    int lim = steps < s->cap ? steps : s->cap;
    for (int k = 0; k < lim; k++) {
        Entry *e = &s->ring[(s->head + k) & s->mask];
        if (e->has) {
            e->has = 0;
            s->count -= 1;
            s->jstats[J_OVERFLOW] += 1;
        }
    }
    s->head = (uint16_t)new_head;
    while (s->count && !s->ring[s->head & s->mask].has) s->head = (uint16_t)((s->head + 1) & 0xFFFF);
    if (s->count == 0) s->head = (uint16_t)seq;
}

static void jb_put(Slot *s, int seq, int64_t ssrc, const uint8_t *payload, Py_ssize_t n) {
    if (seq == s->tail && s->count && ssrc == s->j_ssrc && ((seq - s->head) & 0xFFFF) < s->cap) {
        Entry *e = &s->ring[seq & s->mask];
        e->has = 1;
        e->len = (uint16_t)(n > 0xFFFF ? 0xFFFF : n);
        memcpy(e->data, payload, n < FRAME ? (size_t)n : FRAME);
        s->count += 1;
        s->jstats[J_RECEIVED] += 1;
        s->tail = (uint16_t)((seq + 1) & 0xFFFF);
        return;
    }
    if (s->j_ssrc >= 0 && ssrc != s->j_ssrc) {
        s->jstats[J_RESETS] += 1;
        jb_reset(s);
    }
    if (!s->head_valid) {
        s->j_ssrc = ssrc;
        s->head = (uint16_t)seq;
        s->head_valid = 1;
        jb_store(s, seq, payload, n);
        return;
    }
    int delta = seq_diff(seq, s->head);
    if (delta >= MAX_DROPOUT || delta < -MAX_MISORDER) {
        s->jstats[J_RESETS] += 1;
        jb_reset(s);
        s->j_ssrc = ssrc;
        s->head = (uint16_t)seq;
        s->head_valid = 1;
        jb_store(s, seq, payload, n);
        return;
    }
    if (delta < 0) {
        if (s->playing || s->count == 0) {
            s->jstats[J_LATE] += 1;
            return;
        }
        if (seq_diff(s->tail, seq) > s->cap) {
            s->jstats[J_LATE] += 1;
            return;
        }
        s->head = (uint16_t)seq;
        jb_store(s, seq, payload, n);
        return;
    }
    if (s->count == 0 && !s->playing) {
        s->head = (uint16_t)seq;
        jb_store(s, seq, payload, n);
        return;
    }
    if (delta >= s->cap) jb_slide(s, seq);
    if (s->ring[seq & s->mask].has) {
        s->jstats[J_DUPLICATES] += 1;
        return;
    }
    jb_store(s, seq, payload, n);
}

/* The next frame in order, or NULL (jitter.py pop). */
static Entry *jb_pop(Slot *s) {
    if (!s->head_valid) return NULL;
    if (!s->playing) {
        if (s->count < s->prefetch) return NULL;
        s->playing = 1;
    }
    if (s->count == 0) {
        s->jstats[J_UNDERRUNS] += 1;
        s->playing = 0;
        return NULL;
    }
    Entry *e = &s->ring[s->head & s->mask];
    s->head = (uint16_t)((s->head + 1) & 0xFFFF);
    if (!e->has) {
        s->jstats[J_LOST] += 1;
        return NULL;
    }
    e->has = 0;
    s->count -= 1;
    return e;
}

/* ------------------------------------------------------------------ one received packet */

/* RtpPacket.parse's checks; returns the payload bounds or 0 when malformed. */
static int parse_rtp(const uint8_t *d, Py_ssize_t n, Py_ssize_t *start, Py_ssize_t *end) {
    Py_ssize_t pos = 12;
    int b0 = d[0];
    int cc = b0 & 0x0F;
    if (cc) {
        pos += 4 * cc;
        if (pos > n) return 0;
    }
    if (b0 & 0x10) {
        if (pos + 4 > n) return 0;
        int words = (d[pos + 2] << 8) | d[pos + 3];
        pos += 4 + 4 * words;
        if (pos > n) return 0;
    }
    Py_ssize_t padding = 0;
    if (b0 & 0x20) {
        padding = d[n - 1];
        if (padding == 0 || pos + padding > n) return 0;
    }
    *start = pos;
    *end = n - padding;
    return 1;
}

/* session.py datagram_received; -1 on a Python error. */
static int process(Core *self, Py_ssize_t i, Slot *s, const uint8_t *d, Py_ssize_t n,
                   const struct sockaddr_storage *src, socklen_t srclen, double arrival) {
    if (n < 12 || (d[0] >> 6) != 2) {
        s->counters[C_GARBAGE] += 1;
        return 0;
    }
    if (!s->latched) {
        memcpy(&s->latch, src, sizeof(*src));
        s->latch_len = srclen;
        s->latched = 1;
    } else if (!same_addr(&s->latch, src)) {
        s->counters[C_FOREIGN] += 1;
        return 0;
    }
    int b1 = d[1];
    if (b1 >= 192 && b1 <= 223) { /* RTCP multiplexed (RFC 5761 section 4) */
        PyObject *addr = addr_to_tuple(src);
        if (addr == NULL) return -1;
        return push_rare(self, Py_BuildValue("(iny#N)", R_RTCP, i, (const char *)d, n, addr));
    }
    int pt = b1 & 0x7F;
    int seq = (d[2] << 8) | d[3];
    uint32_t ts = ((uint32_t)d[4] << 24) | ((uint32_t)d[5] << 16) | ((uint32_t)d[6] << 8) | d[7];
    int64_t ssrc = ((int64_t)d[8] << 24) | ((int64_t)d[9] << 16) | ((int64_t)d[10] << 8) | d[11];
    Py_ssize_t start = 12, end = n;
    if (pt == s->audio_pt) {
        if (d[0] != 0x80 && !parse_rtp(d, n, &start, &end)) {
            s->counters[C_GARBAGE] += 1;
            return 0;
        }
        if (ssrc != s->rx_ssrc) {
            int ok = new_source(self, i, s, ssrc, seq);
            if (ok <= 0) return ok;
        }
        rx_update(s, ssrc, seq, ts, arrival);
        s->counters[C_RECEIVED] += 1;
        jb_put(s, seq, ssrc, d + start, end - start);
        if (s->watch) return push_rare(self, Py_BuildValue("(ink)", R_AUDIO_TS, i,
                                                             (unsigned long)ts));
        return 0;
    }
    if (pt == s->dtmf_pt) {
        if (!parse_rtp(d, n, &start, &end)) {
            s->counters[C_GARBAGE] += 1;
            return 0;
        }
        if (ssrc != s->rx_ssrc) {
            int ok = new_source(self, i, s, ssrc, seq);
            if (ok <= 0) return ok;
        }
        s->counters[end - start >= 4 ? C_RECEIVED : C_GARBAGE] += 1;
        s->watch = 1;
        return push_rare(self, Py_BuildValue("(inky#O)", R_EVENT, i, (unsigned long)ts,
                                             (const char *)d + start, end - start,
                                             (b1 & 0x80) ? Py_True : Py_False));
    }
    s->counters[C_UNKNOWN_PT] += 1;
    return 0;
}

/* ------------------------------------------------------------------ sending */

static void send_packet(Slot *s, int b1, uint16_t seq, uint32_t ts, const char *payload,
                        Py_ssize_t n) {
    const struct sockaddr_storage *dest;
    socklen_t dlen;
    if (s->symmetric && s->latched) {
        dest = &s->latch;
        dlen = s->latch_len;
    } else {
        dest = &s->remote;
        dlen = s->remote_len;
    }
    uint8_t buf[12 + MAXPKT];
    if (n > MAXPKT) n = MAXPKT;
    buf[0] = 0x80;
    buf[1] = (uint8_t)b1;
    buf[2] = seq >> 8;
    buf[3] = seq & 0xFF;
    buf[4] = ts >> 24;
    buf[5] = (ts >> 16) & 0xFF;
    buf[6] = (ts >> 8) & 0xFF;
    buf[7] = ts & 0xFF;
    buf[8] = s->ssrc >> 24;
    buf[9] = (s->ssrc >> 16) & 0xFF;
    buf[10] = (s->ssrc >> 8) & 0xFF;
    buf[11] = s->ssrc & 0xFF;
    memcpy(buf + 12, payload, (size_t)n);
    /* EAGAIN (full buffer) or ICMP errors: the frame is lost, as on the wire */
    (void)sendto(s->fd, buf, (size_t)(12 + n), MSG_DONTWAIT, (const struct sockaddr *)dest, dlen);
    s->counters[C_SENT] += 1;
}

/* a socket and somewhere to send to (session.py: destination and transport) */
static int has_dest(Slot *s) {
    return s->fd >= 0 && ((s->symmetric && s->latched) || s->has_remote);
}

/* session.py send_frame without events: 1 if sent */
static int send_audio(Slot *s, const char *payload, Py_ssize_t n) {
    uint32_t ts = s->ts;
    s->ts = ts + FRAME;
    if (!has_dest(s) || !s->sending) return 0;
    uint16_t seq = s->seq;
    s->seq = (uint16_t)(seq + 1);
    int b1 = s->audio_pt | (s->marker ? 0x80 : 0);
    s->marker = 0;
    send_packet(s, b1, seq, ts, payload, n);
    return 1;
}

/* ------------------------------------------------------------------ methods */

static PyObject *Core_open(Core *self, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"slot", "fd", "ssrc", "seq", "ts", "capacity", "prefetch",
                             "symmetric", NULL};
    Py_ssize_t i;
    int fd, capacity, prefetch, symmetric;
    unsigned long ssrc, seq, ts;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "nikkkiip", kwlist, &i, &fd, &ssrc, &seq, &ts,
                                     &capacity, &prefetch, &symmetric))
        return NULL;
    if (i < 0 || i >= self->capacity) return PyErr_Format(PyExc_IndexError, "slot %zd", i);
    if (capacity < 2 || capacity > RING_MAX || (capacity & (capacity - 1)))
        return PyErr_Format(PyExc_ValueError, "jitter capacity %d", capacity);
    if (prefetch < 1 || prefetch > capacity)
        return PyErr_Format(PyExc_ValueError, "prefetch %d", prefetch);
    Entry *ring = PyMem_Calloc((size_t)capacity, sizeof(Entry));
    if (ring == NULL) return PyErr_NoMemory();
    Slot *s = self->slots[i];
    if (s == NULL) {
        s = PyMem_Calloc(1, sizeof(Slot));
        if (s == NULL) {
            PyMem_Free(ring);
            return PyErr_NoMemory();
        }
        self->slots[i] = s;
    } else {
        Py_CLEAR(s->play);
        PyMem_Free(s->ring);
        forget_rtcp(self, s);
        memset(s, 0, sizeof(Slot));
    }
    s->ring = ring;
    s->silence = 0xFF;
    s->fd = fd;
    s->rtcp_fd = -1;
    if (fd >= 0) {
        /* the kernel's arrival time of each datagram, for the RTCP jitter (RFC 3550 A.8):
         * the tick drains the socket up to 20 ms after a packet arrived */
        int on = 1;
        (void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
    }
    s->audio_pt = 0;
    s->dtmf_pt = -1;
    s->symmetric = symmetric;
    s->rx_ssrc = s->sv_ssrc = s->sv_cand = -1;
    s->sv_min = 2;
    s->st_ssrc = -1;
    s->cap = capacity;
    s->mask = capacity - 1;
    s->prefetch = prefetch;
    s->j_ssrc = -1;
    s->ssrc = (uint32_t)ssrc;
    s->seq = (uint16_t)seq;
    s->ts = (uint32_t)ts;
    s->marker = 1;
    s->sending = 1;
    if (i + 1 > self->hi) self->hi = i + 1;
    Py_RETURN_NONE;
}

static PyObject *Core_close(Core *self, PyObject *arg) {
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (i == -1 && PyErr_Occurred()) return NULL;
    if (i >= 0 && i < self->capacity && self->slots[i] != NULL) {
        Py_CLEAR(self->slots[i]->play);
        PyMem_Free(self->slots[i]->ring);
        forget_rtcp(self, self->slots[i]);
        PyMem_Free(self->slots[i]);
        self->slots[i] = NULL;
        while (self->hi > 0 && self->slots[self->hi - 1] == NULL) self->hi--;
    }
    Py_RETURN_NONE;
}

/* set_rtcp(slot, fd): the leg's RTCP socket (-1: none), in the core's epoll set:
 * drain() reads the ports that have something, one epoll_wait per call */
static PyObject *Core_set_rtcp(Core *self, PyObject *args) {
    Py_ssize_t i;
    int fd;
    if (!PyArg_ParseTuple(args, "ni", &i, &fd)) return NULL;
    Slot *s = get_slot(self, i);
    if (s == NULL) return NULL;
    forget_rtcp(self, s);
    if (fd >= 0) {
        int on = 1; /* the report's arrival time for the round trip (RFC 3550 6.4.1) */
        (void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)i};
        if (epoll_ctl(self->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) return PyErr_SetFromErrno(PyExc_OSError);
    }
    s->rtcp_fd = fd;
    Py_RETURN_NONE;
}

static PyObject *Core_configure(Core *self, PyObject *args) {
    Py_ssize_t i;
    int audio_pt, dtmf_pt, alaw;
    if (!PyArg_ParseTuple(args, "niip", &i, &audio_pt, &dtmf_pt, &alaw)) return NULL;
    Slot *s = get_slot(self, i);
    if (s == NULL) return NULL;
    s->audio_pt = audio_pt;
    s->dtmf_pt = dtmf_pt;
    s->alaw = alaw;
    s->silence = alaw ? 0xD5 : 0xFF;
    Py_RETURN_NONE;
}

static PyObject *Core_set_remote(Core *self, PyObject *args) {
    Py_ssize_t i;
    PyObject *addr;
    if (!PyArg_ParseTuple(args, "nO", &i, &addr)) return NULL;
    Slot *s = get_slot(self, i);
    if (s == NULL) return NULL;
    if (addr == Py_None) {
        s->has_remote = 0;
        Py_RETURN_NONE;
    }
    int rc = addr_from_tuple(addr, &s->remote, &s->remote_len);
    if (rc < 0) return NULL;
    s->has_remote = rc;
    return PyBool_FromLong(rc);
}

#define FLAG_SETTER(name, field)                                              \
    static PyObject *Core_##name(Core *self, PyObject *args) {                \
        Py_ssize_t i;                                                         \
        int v;                                                                \
        if (!PyArg_ParseTuple(args, "np", &i, &v)) return NULL;               \
        Slot *s = get_slot(self, i);                                          \
        if (s == NULL) return NULL;                                           \
        s->field = v;                                                         \
        Py_RETURN_NONE;                                                       \
    }
FLAG_SETTER(set_sending, sending)
FLAG_SETTER(set_inband, inband)
FLAG_SETTER(set_watch, watch)
FLAG_SETTER(set_marker, marker)
FLAG_SETTER(set_symmetric, symmetric)
FLAG_SETTER(set_pymode, pymode)

/* load(slot, encoded or None, pos, frames): the player's current prompt */
static PyObject *Core_load(Core *self, PyObject *args) {
    Py_ssize_t i, pos, frames;
    PyObject *buf;
    if (!PyArg_ParseTuple(args, "nOnn", &i, &buf, &pos, &frames)) return NULL;
    Slot *s = get_slot(self, i);
    if (s == NULL) return NULL;
    if (buf != Py_None) {
        if (!PyBytes_Check(buf)) return PyErr_Format(PyExc_TypeError, "bytes expected");
        if (pos < 0 || frames < 0 || frames * FRAME > PyBytes_GET_SIZE(buf))
            return PyErr_Format(PyExc_ValueError, "%zd frames do not fit", frames);
    }
    Py_XSETREF(s->play, buf == Py_None ? NULL : Py_NewRef(buf));
    s->play_pos = pos;
    s->play_end = frames;
    if (s->play != NULL && pos >= frames) Py_CLEAR(s->play);
    Py_RETURN_NONE;
}

static PyObject *Core_position(Core *self, PyObject *arg) {
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (i == -1 && PyErr_Occurred()) return NULL;
    Slot *s = get_slot(self, i);
    if (s == NULL) return NULL;
    return PyLong_FromSsize_t(s->play_pos);
}

static PyObject *Core_latched(Core *self, PyObject *arg) {
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (i == -1 && PyErr_Occurred()) return NULL;
    Slot *s = get_slot(self, i);
    if (s == NULL) return NULL;
    if (!s->latched) Py_RETURN_NONE;
    return addr_to_tuple(&s->latch);
}

static PyObject *Core_unlatch(Core *self, PyObject *arg) {
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (i == -1 && PyErr_Occurred()) return NULL;
    Slot *s = get_slot(self, i);
    if (s == NULL) return NULL;
    s->latched = 0;
    Py_RETURN_NONE;
}

static PyObject *Core_restart_source(Core *self, PyObject *arg) {
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (i == -1 && PyErr_Occurred()) return NULL;
    Slot *s = get_slot(self, i);
    if (s == NULL) return NULL;
    s->sv_ssrc = s->sv_cand = -1;
    s->sv_count = 0;
    s->rx_ssrc = -1;
    Py_RETURN_NONE;
}

static PyObject *Core_rx_ssrc(Core *self, PyObject *arg) {
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (i == -1 && PyErr_Occurred()) return NULL;
    Slot *s = get_slot(self, i);
    if (s == NULL) return NULL;
    return PyLong_FromLongLong(s->rx_ssrc);
}

/* (validated ssrc or -1, takeovers) */
static PyObject *Core_source(Core *self, PyObject *arg) {
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (i == -1 && PyErr_Occurred()) return NULL;
    Slot *s = get_slot(self, i);
    if (s == NULL) return NULL;
    return Py_BuildValue("(LL)", (long long)s->sv_ssrc, (long long)s->takeovers);
}

static PyObject *Core_counters(Core *self, PyObject *arg) {
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (i == -1 && PyErr_Occurred()) return NULL;
    Slot *s = get_slot(self, i);
    if (s == NULL) return NULL;
    PyObject *t = PyTuple_New(N_COUNTERS);
    if (t == NULL) return NULL;
    for (int k = 0; k < N_COUNTERS; k++)
        PyTuple_SET_ITEM(t, k, PyLong_FromLongLong(s->counters[k]));
    return t;
}

static PyObject *Core_set_counter(Core *self, PyObject *args) {
    Py_ssize_t i;
    int k;
    long long v;
    if (!PyArg_ParseTuple(args, "niL", &i, &k, &v)) return NULL;
    Slot *s = get_slot(self, i);
    if (s == NULL) return NULL;
    if (k < 0 || k >= N_COUNTERS) return PyErr_Format(PyExc_IndexError, "counter %d", k);
    s->counters[k] = v;
    Py_RETURN_NONE;
}

/* (received, duplicates, late, overflow, lost, underruns, resets, held, playing) */
static PyObject *Core_jitter(Core *self, PyObject *arg) {
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (i == -1 && PyErr_Occurred()) return NULL;
    Slot *s = get_slot(self, i);
    if (s == NULL) return NULL;
    PyObject *t = PyTuple_New(N_JSTATS + 2);
    if (t == NULL) return NULL;
    for (int k = 0; k < N_JSTATS; k++) PyTuple_SET_ITEM(t, k, PyLong_FromLongLong(s->jstats[k]));
    PyTuple_SET_ITEM(t, N_JSTATS, PyLong_FromLong(s->count));
    PyTuple_SET_ITEM(t, N_JSTATS + 1, PyBool_FromLong(s->playing));
    return t;
}

/* (ssrc or -1, base_seq, max_seq, cycles, received, jitter, transit or None, generation) */
static PyObject *Core_rx_stats(Core *self, PyObject *arg) {
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (i == -1 && PyErr_Occurred()) return NULL;
    Slot *s = get_slot(self, i);
    if (s == NULL) return NULL;
    PyObject *transit = s->st_has_transit ? PyFloat_FromDouble(s->st_transit) : Py_NewRef(Py_None);
    if (transit == NULL) return NULL;
    return Py_BuildValue("(LLLLLdNL)", (long long)s->st_ssrc, (long long)s->st_base,
                         (long long)s->st_max, (long long)s->st_cycles,
                         (long long)s->st_received, s->st_jitter, transit, (long long)s->st_gen);
}

/* (seq, ts) of the sender */
static PyObject *Core_tx_state(Core *self, PyObject *arg) {
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (i == -1 && PyErr_Occurred()) return NULL;
    Slot *s = get_slot(self, i);
    if (s == NULL) return NULL;
    return Py_BuildValue("(kk)", (unsigned long)s->seq, (unsigned long)s->ts);
}

static PyObject *Core_advance_ts(Core *self, PyObject *arg) {
    Py_ssize_t i = PyLong_AsSsize_t(arg);
    if (i == -1 && PyErr_Occurred()) return NULL;
    Slot *s = get_slot(self, i);
    if (s == NULL) return NULL;
    uint32_t ts = s->ts;
    s->ts = ts + FRAME;
    return PyLong_FromUnsignedLong(ts);
}

static PyObject *Core_feed(Core *self, PyObject *args) {
    Py_ssize_t i;
    Py_buffer data;
    PyObject *addr;
    double arrival;
    if (!PyArg_ParseTuple(args, "ny*Od", &i, &data, &addr, &arrival)) return NULL;
    Slot *s = get_slot(self, i);
    struct sockaddr_storage sa;
    socklen_t len = 0;
    int rc = -1;
    if (s != NULL) {
        int ok = addr_from_tuple(addr, &sa, &len);
        if (ok == 0) PyErr_SetString(PyExc_ValueError, "not a numeric address");
        if (ok == 1) rc = process(self, i, s, data.buf, data.len, &sa, len, arrival);
    }
    PyBuffer_Release(&data);
    if (rc < 0) return NULL;
    Py_RETURN_NONE;
}

static double realtime_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The datagram's kernel timestamp (SO_TIMESTAMPNS, CLOCK_REALTIME), else now. */
static double arrival_of(struct msghdr *h, double now) {
    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec t;
            memcpy(&t, CMSG_DATA(c), sizeof(t));
            return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
        }
    }
    return now;
}

static uint8_t rx_bufs[BATCH][MAXPKT];
static struct mmsghdr rx_msgs[BATCH];
static struct iovec rx_iov[BATCH];
static struct sockaddr_storage rx_addrs[BATCH];
static union {
    char buf[CMSG_SPACE(sizeof(struct timespec))];
    struct cmsghdr align;
} rx_ctrl[BATCH];

static int rx_dirty = BATCH; /* headers the last recvmmsg filled (all: never set up) */

/* One recvmmsg of up to BATCH datagrams from fd (the buffers above).  The headers
 * are set up once; per call only the lengths the kernel overwrote are reset. */
static int receive_batch(int fd) {
    for (int k = 0; k < rx_dirty; k++) {
        rx_iov[k].iov_base = rx_bufs[k];
        rx_iov[k].iov_len = MAXPKT;
        struct msghdr *h = &rx_msgs[k].msg_hdr;
        h->msg_iov = &rx_iov[k];
        h->msg_iovlen = 1;
        h->msg_name = &rx_addrs[k];
        h->msg_namelen = sizeof(rx_addrs[k]);
        h->msg_control = rx_ctrl[k].buf;
        h->msg_controllen = sizeof(rx_ctrl[k].buf);
        h->msg_flags = 0;
    }
    int got = recvmmsg(fd, rx_msgs, BATCH, MSG_DONTWAIT, NULL);
    rx_dirty = got > 0 ? got : 0;
    return got;
}

/* Read the RTCP ports that have something (one epoll_wait, no wait) empty: each
 * report goes to Python as (R_RTCP_PORT, slot, data, addr, arrival). */
static int drain_rtcp(Core *self, long *total) {
    struct epoll_event ready[RTCP_EVENTS];
    int n = epoll_wait(self->epfd, ready, RTCP_EVENTS, 0);
    for (int r = 0; r < n; r++) {
        Py_ssize_t i = (Py_ssize_t)ready[r].data.u64;
        Slot *s = i < self->hi ? self->slots[i] : NULL;
        if (s == NULL || s->rtcp_fd < 0) continue;
        for (;;) {
            int got = receive_batch(s->rtcp_fd);
            if (got <= 0) break;
            double now = realtime_now();
            for (int k = 0; k < got; k++) {
                PyObject *addr = addr_to_tuple(&rx_addrs[k]);
                if (addr == NULL) return -1;
                if (push_rare(self, Py_BuildValue("(iny#Nd)", R_RTCP_PORT, i,
                                                  (const char *)rx_bufs[k],
                                                  (Py_ssize_t)rx_msgs[k].msg_len, addr,
                                                  arrival_of(&rx_msgs[k].msg_hdr, now))) < 0)
                    return -1;
            }
            *total += got;
            if (got < BATCH) break;
        }
    }
    return 0;
}

/* Read every open slot's RTP socket empty, and the RTCP ports that have something;
 * returns the datagrams read. */
static PyObject *Core_drain(Core *self, PyObject *Py_UNUSED(ignored)) {
    long total = 0;
    for (Py_ssize_t i = 0; i < self->hi; i++) {
        Slot *s = self->slots[i];
        if (s == NULL || s->fd < 0) continue;
        for (;;) {
            int got = receive_batch(s->fd);
            if (got <= 0) break; /* EAGAIN: empty; other errors (ICMP) are dropped too */
            double now = realtime_now();
            for (int k = 0; k < got; k++) {
                if (process(self, i, s, rx_bufs[k], (Py_ssize_t)rx_msgs[k].msg_len, &rx_addrs[k],
                            rx_msgs[k].msg_hdr.msg_namelen,
                            arrival_of(&rx_msgs[k].msg_hdr, now)) < 0)
                    return NULL;
                s = self->slots[i];
            }
            total += got;
            if (got < BATCH) break;
        }
    }
    if (drain_rtcp(self, &total) < 0) return NULL;
    return PyLong_FromLong(total);
}

static PyObject *Core_take_rare(Core *self, PyObject *Py_UNUSED(ignored)) {
    PyObject *out = self->rare;
    PyObject *fresh = PyList_New(0);
    if (fresh == NULL) return NULL;
    self->rare = fresh;
    return out;
}

static PyObject *Core_has_rare(Core *self, void *Py_UNUSED(closure)) {
    return PyBool_FromLong(PyList_GET_SIZE(self->rare) > 0);
}

/* Four float lanes (GCC/Clang vector extension: SSE on x86-64, NEON on arm64). */
typedef float v4f __attribute__((vector_size(16)));

/* The strongest tone power of one group (4 frequencies: cos/sin lanes ``lane`` to
 * ``lane + 7`` of the basis).  Two accumulators per lane pair (even and odd
 * samples) so that the adds do not wait on each other. */
static double group_peak(const Core *self, const int16_t *row, int lane) {
    v4f a0 = {0, 0, 0, 0}, a1 = a0, b0 = a0, b1 = a0;
    const float *b = self->basis + lane;
    for (int t = 0; t < FRAME; t += 2, b += 32) {
        v4f x = {row[t], row[t], row[t], row[t]};
        v4f y = {row[t + 1], row[t + 1], row[t + 1], row[t + 1]};
        v4f p0, p1, q0, q1;
        memcpy(&p0, b, 16);
        memcpy(&p1, b + 4, 16);
        memcpy(&q0, b + 16, 16);
        memcpy(&q1, b + 20, 16);
        a0 += x * p0;
        a1 += x * p1;
        b0 += y * q0;
        b1 += y * q1;
    }
    v4f c0 = a0 + b0, c1 = a1 + b1; /* (cos, sin) of frequencies 0, 1 | 2, 3 */
    double peak = 0.0;
    for (int f = 0; f < 2; f++) {
        double p = (double)c0[2 * f] * c0[2 * f] + (double)c0[2 * f + 1] * c0[2 * f + 1];
        double q = (double)c1[2 * f] * c1[2 * f] + (double)c1[2 * f + 1] * c1[2 * f + 1];
        if (p > peak) peak = p;
        if (q > peak) peak = q;
    }
    return peak;
}

/* Whether a decoded frame may hold a DTMF digit (goertzel.py inband_gate): the
 * strongest row and column tone each at least ``floor`` and together at least
 * ``fraction`` of the frame's mean square.  ``energy`` is the frame's sum of
 * squares (computed while decoding).
 *
 * Cheapest test first: a quiet frame (silence, most of a call) stops on its
 * energy; loud audio below the column band (voiced speech, SIPp's 440 Hz
 * tone) on the column group's peak, computed before the row group's, so it
 * costs half the multiply-adds of a digit candidate. */
static int dtmf_candidate(const Core *self, const int16_t *row, int64_t e, double floor,
                          double fraction) {
    double energy = (double)e / FRAME;
    /* A tone's power is at most twice the mean square (goertzel.py inband_gate). */
    if (2.0 * energy < floor) return 0;
    /* float: the gate's margins (a factor of 2) dwarf its rounding */
    double cp = group_peak(self, row, 8);
    if (cp < floor) return 0;
    double rp = group_peak(self, row, 0);
    return rp >= floor && rp + cp >= fraction * energy;
}

/* pop(pcm, slots, flags, floor, fraction) -> rows.  One frame per open slot out of
 * its jitter buffer; rows whose payload is a whole 20 ms frame are decoded into pcm
 * (int16, rows x 160) with their slot; flags: 1 = in-band detection wanted, 2 = the
 * frame may hold a digit (dtmf_candidate). */
static PyObject *Core_pop(Core *self, PyObject *args) {
    Py_buffer pcm, slots, flags;
    double floor, fraction;
    if (!PyArg_ParseTuple(args, "w*w*w*dd", &pcm, &slots, &flags, &floor, &fraction))
        return NULL;
    Py_ssize_t rows = pcm.len / (FRAME * 2);
    if (slots.len / 4 < rows) rows = slots.len / 4;
    if (flags.len < rows) rows = flags.len;
    int16_t *out = pcm.buf;
    int32_t *slot_out = slots.buf;
    uint8_t *flag_out = flags.buf;
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < self->hi && n < rows; i++) {
        Slot *s = self->slots[i];
        if (s == NULL) continue;
        Entry *e = jb_pop(s);
        if (e == NULL || e->len != FRAME) continue;
        const int16_t *table = s->alaw ? self->alaw : self->ulaw;
        int16_t *row = out + n * FRAME;
        uint8_t f = 0;
        if (s->inband) {
            int64_t energy = 0;
            for (int k = 0; k < FRAME; k++) {
                int32_t v = table[e->data[k]];
                row[k] = (int16_t)v;
                energy += v * v;
            }
            f = 1 | (dtmf_candidate(self, row, energy, floor, fraction) ? 2 : 0);
        } else {
            for (int k = 0; k < FRAME; k++) row[k] = table[e->data[k]];
        }
        slot_out[n] = (int32_t)i;
        flag_out[n] = f;
        n++;
    }
    PyBuffer_Release(&pcm);
    PyBuffer_Release(&slots);
    PyBuffer_Release(&flags);
    return PyLong_FromSsize_t(n);
}

/* send(slots, payloads) -> frames sent.  payloads[k] (bytes, or None to skip) is
 * slot slots[k]'s next audio frame. */
static PyObject *Core_send(Core *self, PyObject *args) {
    Py_buffer slots;
    PyObject *payloads;
    if (!PyArg_ParseTuple(args, "y*O!", &slots, &PyList_Type, &payloads)) return NULL;
    Py_ssize_t n = slots.len / 4;
    if (PyList_GET_SIZE(payloads) < n) n = PyList_GET_SIZE(payloads);
    const int32_t *idx = slots.buf;
    long sent = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *p = PyList_GET_ITEM(payloads, k);
        if (p == Py_None) continue;
        int32_t i = idx[k];
        if (i < 0 || i >= self->capacity || self->slots[i] == NULL || !PyBytes_Check(p)) continue;
        sent += send_audio(self->slots[i], PyBytes_AS_STRING(p), PyBytes_GET_SIZE(p));
    }
    PyBuffer_Release(&slots);
    return PyLong_FromLong(sent);
}

/* send_all(slots) -> finished slots.  Every listed leg not in Python mode sends its
 * player's next frame (or silence); the legs whose prompt ended this tick are
 * returned for the player to move on (player.py Player.finished). */
static PyObject *Core_send_all(Core *self, PyObject *arg) {
    Py_buffer slots;
    if (PyObject_GetBuffer(arg, &slots, PyBUF_SIMPLE) < 0) return NULL;
    PyObject *finished = PyList_New(0);
    if (finished == NULL) {
        PyBuffer_Release(&slots);
        return NULL;
    }
    uint8_t silence[2][FRAME];
    memset(silence[0], 0xFF, FRAME);
    memset(silence[1], 0xD5, FRAME);
    Py_ssize_t n = slots.len / 4;
    const int32_t *idx = slots.buf;
    for (Py_ssize_t k = 0; k < n; k++) {
        int32_t i = idx[k];
        if (i < 0 || i >= self->capacity || self->slots[i] == NULL) continue;
        Slot *s = self->slots[i];
        if (s->pymode) continue;
        const char *payload;
        if (s->play != NULL) {
            payload = PyBytes_AS_STRING(s->play) + s->play_pos * FRAME;
            s->play_pos += 1;
            send_audio(s, payload, FRAME);
            if (s->play_pos >= s->play_end) {
                Py_CLEAR(s->play);
                PyObject *slot = PyLong_FromLong(i);
                if (slot == NULL || PyList_Append(finished, slot) < 0) {
                    Py_XDECREF(slot);
                    Py_DECREF(finished);
                    PyBuffer_Release(&slots);
                    return NULL;
                }
                Py_DECREF(slot);
            }
        } else {
            send_audio(s, (const char *)silence[s->silence == 0xD5], FRAME);
        }
    }
    PyBuffer_Release(&slots);
    return finished;
}

static PyObject *Core_send_frame(Core *self, PyObject *args) {
    Py_ssize_t i;
    Py_buffer p;
    if (!PyArg_ParseTuple(args, "ny*", &i, &p)) return NULL;
    Slot *s = get_slot(self, i);
    int sent = s != NULL ? send_audio(s, p.buf, p.len) : 0;
    PyBuffer_Release(&p);
    if (s == NULL) return NULL;
    return PyBool_FromLong(sent);
}

/* A non-audio packet (RFC 4733) sharing the sequence space: session.py send_raw. */
static PyObject *Core_send_raw(Core *self, PyObject *args) {
    Py_ssize_t i;
    Py_buffer p;
    int pt, marker;
    unsigned long ts;
    if (!PyArg_ParseTuple(args, "ny*ipk", &i, &p, &pt, &marker, &ts)) return NULL;
    Slot *s = get_slot(self, i);
    if (s == NULL) {
        PyBuffer_Release(&p);
        return NULL;
    }
    uint16_t seq = s->seq;
    s->seq = (uint16_t)(seq + 1);
    if (has_dest(s)) {
        send_packet(s, (pt & 0x7F) | (marker ? 0x80 : 0), seq, (uint32_t)ts, p.buf, p.len);
        s->counters[C_EVENTS_SENT] += 1;
    }
    PyBuffer_Release(&p);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ type */

static int Core_init(Core *self, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"capacity", "ulaw", "alaw", "basis", NULL};
    Py_ssize_t capacity;
    Py_buffer ulaw, alaw, basis;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "ny*y*y*", kwlist, &capacity, &ulaw, &alaw,
                                     &basis))
        return -1;
    int bad = capacity <= 0 || ulaw.len != 512 || alaw.len != 512 ||
              basis.len != (Py_ssize_t)(FRAME * 16 * sizeof(double));
    if (!bad) {
        memcpy(self->ulaw, ulaw.buf, 512);
        memcpy(self->alaw, alaw.buf, 512);
        const double *b = basis.buf;
        for (int k = 0; k < FRAME * 16; k++) self->basis[k] = (float)b[k];
    }
    PyBuffer_Release(&ulaw);
    PyBuffer_Release(&alaw);
    PyBuffer_Release(&basis);
    if (bad) {
        PyErr_SetString(PyExc_ValueError,
                        "capacity > 0, two 256-entry int16 tables, a 160 x 16 float64 basis");
        return -1;
    }
    if (self->slots != NULL) return 0;
    self->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (self->epfd < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    self->slots = PyMem_Calloc((size_t)capacity, sizeof(Slot *));
    if (self->slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->capacity = capacity;
    self->rare = PyList_New(0);
    return self->rare == NULL ? -1 : 0;
}

static void Core_dealloc(Core *self) {
    if (self->slots != NULL) {
        for (Py_ssize_t i = 0; i < self->capacity; i++) {
            if (self->slots[i] != NULL) {
                Py_CLEAR(self->slots[i]->play);
                PyMem_Free(self->slots[i]->ring);
            }
            /* (the epoll set goes with its descriptor below) */
            PyMem_Free(self->slots[i]);
        }
        PyMem_Free(self->slots);
    }
    if (self->epfd > 0) close(self->epfd);
    Py_XDECREF(self->rare);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Core_methods[] = {
    {"open", (PyCFunction)(void (*)(void))Core_open, METH_VARARGS | METH_KEYWORDS, NULL},
    {"close", (PyCFunction)Core_close, METH_O, NULL},
    {"configure", (PyCFunction)Core_configure, METH_VARARGS, NULL},
    {"set_rtcp", (PyCFunction)Core_set_rtcp, METH_VARARGS, NULL},
    {"set_remote", (PyCFunction)Core_set_remote, METH_VARARGS, NULL},
    {"set_sending", (PyCFunction)Core_set_sending, METH_VARARGS, NULL},
    {"set_inband", (PyCFunction)Core_set_inband, METH_VARARGS, NULL},
    {"set_watch", (PyCFunction)Core_set_watch, METH_VARARGS, NULL},
    {"set_marker", (PyCFunction)Core_set_marker, METH_VARARGS, NULL},
    {"set_symmetric", (PyCFunction)Core_set_symmetric, METH_VARARGS, NULL},
    {"set_pymode", (PyCFunction)Core_set_pymode, METH_VARARGS, NULL},
    {"load", (PyCFunction)Core_load, METH_VARARGS, NULL},
    {"position", (PyCFunction)Core_position, METH_O, NULL},
    {"send_all", (PyCFunction)Core_send_all, METH_O, NULL},
    {"latched", (PyCFunction)Core_latched, METH_O, NULL},
    {"unlatch", (PyCFunction)Core_unlatch, METH_O, NULL},
    {"restart_source", (PyCFunction)Core_restart_source, METH_O, NULL},
    {"rx_ssrc", (PyCFunction)Core_rx_ssrc, METH_O, NULL},
    {"source", (PyCFunction)Core_source, METH_O, NULL},
    {"counters", (PyCFunction)Core_counters, METH_O, NULL},
    {"set_counter", (PyCFunction)Core_set_counter, METH_VARARGS, NULL},
    {"jitter", (PyCFunction)Core_jitter, METH_O, NULL},
    {"rx_stats", (PyCFunction)Core_rx_stats, METH_O, NULL},
    {"tx_state", (PyCFunction)Core_tx_state, METH_O, NULL},
    {"advance_ts", (PyCFunction)Core_advance_ts, METH_O, NULL},
    {"feed", (PyCFunction)Core_feed, METH_VARARGS, NULL},
    {"drain", (PyCFunction)Core_drain, METH_NOARGS, NULL},
    {"take_rare", (PyCFunction)Core_take_rare, METH_NOARGS, NULL},
    {"pop", (PyCFunction)Core_pop, METH_VARARGS, NULL},
    {"send", (PyCFunction)Core_send, METH_VARARGS, NULL},
    {"send_frame", (PyCFunction)Core_send_frame, METH_VARARGS, NULL},
    {"send_raw", (PyCFunction)Core_send_raw, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Core_getset[] = {
    {"has_rare", (getter)Core_has_rare, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject CoreType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "bailanys.media._fastrtp.Core",
    .tp_basicsize = sizeof(Core),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Core_init,
    .tp_dealloc = (destructor)Core_dealloc,
    .tp_methods = Core_methods,
    .tp_getset = Core_getset,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fastrtp", "Compiled RTP inner loop of the media hub.", -1, NULL,
};

PyMODINIT_FUNC PyInit__fastrtp(void) {
    if (PyType_Ready(&CoreType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    Py_INCREF(&CoreType);
    if (PyModule_AddObject(m, "Core", (PyObject *)&CoreType) < 0) {
        Py_DECREF(&CoreType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
