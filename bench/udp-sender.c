/*
 * The load:udp sender in C: the same meters, pacing, protocol and report as
 * bench/udp-sender.ts, at a fraction of its CPU (sendmmsg/recvmmsg, no
 * garbage collector), so that at 200,000 readings/s the sender leaves the
 * server the rest of the 2 cores. Compiled by the bench on first use
 * (bench/c-sender.ts); the Node sender remains the fallback.
 *
 * argv: host port firstMeter meters ratePerSecond durationS drainS [blast]
 * Each meter sends its oldest unacknowledged readings in one datagram of at
 * most 1,400 bytes (the protocol's rule); ACK lines (`ACK;<m>;<iso>`) cover
 * everything of a meter up to their timestamp. Prints the report as one
 * JSON object on stdout: sent, acknowledgedWhileSending, datagrams,
 * acknowledged, unacknowledged, acks {matricula: ms}, produced {matricula: [ms]}.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_DATAGRAM 1400
#define BATCH 256
#define MATRICULA_BASE 10000000LL
/* The register is a function of the timestamp (ms since 2020-01-01), so a resent reading is the same reading. */
#define REGISTER_ORIGIN 1577836800000LL

typedef struct {
  int64_t *items;
  size_t head, len, cap;
} Queue;

typedef struct {
  int64_t *items;
  size_t len, cap;
} List;

static int sock;
static long first_meter, meters;
static Queue *pending;
static List *produced;
static int64_t *last_sent, *last_produced, *acked;
static long long sent_readings, datagrams, acknowledged;
static int blast;

static struct mmsghdr out_msgs[BATCH];
static struct iovec out_iov[BATCH];
static char out_buf[BATCH][MAX_DATAGRAM];
static int out_count;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void flush_out(void) {
  int done = 0;
  while (done < out_count) {
    int n = sendmmsg(sock, out_msgs + done, out_count - done, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
        struct pollfd p = {sock, POLLOUT, 0};
        poll(&p, 1, 1);
        continue;
      }
      perror("sendmmsg");
      exit(1);
    }
    done += n;
  }
  out_count = 0;
}

static char *out_next(void) {
  if (out_count == BATCH) flush_out();
  return out_buf[out_count];
}

static void out_commit(size_t length) {
  out_iov[out_count].iov_base = out_buf[out_count];
  out_iov[out_count].iov_len = length;
  memset(&out_msgs[out_count].msg_hdr, 0, sizeof(struct msghdr));
  out_msgs[out_count].msg_hdr.msg_iov = &out_iov[out_count];
  out_msgs[out_count].msg_hdr.msg_iovlen = 1;
  out_count++;
  datagrams++;
}

/* `MEDICAO;<matricula>;<YYYY-MM-DDTHH:MM:SS.sssZ>;<register>` */
static int reading_line(char *to, long meter, int64_t ts) {
  time_t seconds = (time_t)(ts / 1000);
  struct tm tm;
  gmtime_r(&seconds, &tm);
  return sprintf(to, "MEDICAO;%lld;%04d-%02d-%02dT%02d:%02d:%02d.%03dZ;%lld", MATRICULA_BASE + first_meter + meter, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(ts % 1000), (long long)(ts - REGISTER_ORIGIN));
}

static void push(Queue *q, int64_t value) {
  if (q->head + q->len == q->cap) {
    if (q->head > 0) {
      memmove(q->items, q->items + q->head, q->len * sizeof(int64_t));
      q->head = 0;
    }
    if (q->len == q->cap) {
      q->cap = q->cap == 0 ? 8 : q->cap * 2;
      q->items = realloc(q->items, q->cap * sizeof(int64_t));
    }
  }
  q->items[q->head + q->len++] = value;
}

static void append(List *l, int64_t value) {
  if (l->len == l->cap) {
    l->cap = l->cap == 0 ? 16 : l->cap * 2;
    l->items = realloc(l->items, l->cap * sizeof(int64_t));
  }
  l->items[l->len++] = value;
}

/* Sends meter i's oldest unacknowledged readings in one datagram, as many as fit. */
static void send_meter(long i) {
  Queue *q = &pending[i];
  if (q->len == 0) return;
  char *buf = out_next();
  size_t used = 0;
  size_t included = 0;
  char line[128];
  for (size_t k = 0; k < q->len; k++) {
    int n = reading_line(line, i, q->items[q->head + k]);
    if (included > 0 && used + 1 + (size_t)n > MAX_DATAGRAM) break;
    if (included > 0) buf[used++] = '\n';
    memcpy(buf + used, line, (size_t)n);
    used += (size_t)n;
    included++;
  }
  out_commit(used);
  int64_t newest = q->items[q->head + included - 1];
  if (newest > last_sent[i]) last_sent[i] = newest;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = (unsigned)(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, int n) {
  int v = 0;
  for (int k = 0; k < n; k++) {
    if (s[k] < '0' || s[k] > '9') return -1;
    v = v * 10 + (s[k] - '0');
  }
  return v;
}

/* `YYYY-MM-DDTHH:MM:SS.sssZ` to ms, or -1. */
static int64_t parse_iso(const char *s, size_t n) {
  if (n < 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[23] != 'Z') return -1;
  int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2), h = digits(s + 11, 2), mi = digits(s + 14, 2), se = digits(s + 17, 2), ms = digits(s + 20, 3);
  if (y < 0 || mo < 1 || d < 1 || h < 0 || mi < 0 || se < 0 || ms < 0) return -1;
  return ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 24 + h) * 60 + mi) * 60000LL + se * 1000LL + ms;
}

static void on_ack(const char *line, size_t n) {
  if (n < 5 || memcmp(line, "ACK;", 4) != 0) return;
  const char *m = line + 4;
  const char *semi = memchr(m, ';', n - 4);
  if (semi == NULL) return;
  long long matricula = 0;
  for (const char *c = m; c < semi; c++) matricula = matricula * 10 + (*c - '0');
  long i = (long)(matricula - MATRICULA_BASE - first_meter);
  if (i < 0 || i >= meters) return;
  const char *ts_text = semi + 1;
  size_t rest = n - (size_t)(ts_text - line);
  int64_t ts = parse_iso(ts_text, rest);
  if (ts < 0) return;
  if (ts > acked[i]) acked[i] = ts;
  Queue *q = &pending[i];
  size_t covered = 0;
  while (covered < q->len && q->items[q->head + covered] <= ts) covered++;
  if (covered > 0) {
    q->head += covered;
    q->len -= covered;
    if (q->len == 0) q->head = 0;
    acknowledged += (long long)covered;
    /* Everything sent is covered and more waits: send it now, as meters do. */
    if (ts >= last_sent[i] && q->len > 0) send_meter(i);
  }
}

#define RECV_BATCH 64
static struct mmsghdr in_msgs[RECV_BATCH];
static struct iovec in_iov[RECV_BATCH];
static char in_buf[RECV_BATCH][2048];

/* Reads every datagram waiting; with `wait_ms` > 0, first waits that long for one. */
static void receive(int wait_ms) {
  if (wait_ms > 0) {
    struct pollfd p = {sock, POLLIN, 0};
    poll(&p, 1, wait_ms);
  }
  for (;;) {
    for (int k = 0; k < RECV_BATCH; k++) {
      in_iov[k].iov_base = in_buf[k];
      in_iov[k].iov_len = sizeof in_buf[k];
      memset(&in_msgs[k].msg_hdr, 0, sizeof(struct msghdr));
      in_msgs[k].msg_hdr.msg_iov = &in_iov[k];
      in_msgs[k].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(sock, in_msgs, RECV_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) break;
    for (int k = 0; k < n; k++) {
      const char *data = in_buf[k];
      size_t len = in_msgs[k].msg_len;
      size_t start = 0;
      for (size_t c = 0; c <= len; c++) {
        if (c == len || data[c] == '\n') {
          on_ack(data + start, c - start);
          start = c + 1;
        }
      }
    }
    if (n < RECV_BATCH) break;
  }
  flush_out();
}

int main(int argc, char **argv) {
  if (argc < 8) {
    fprintf(stderr, "usage: udp-sender host port firstMeter meters ratePerSecond durationS drainS [blast]\n");
    return 1;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]);
  first_meter = atol(argv[3]);
  meters = atol(argv[4]);
  double rate = atof(argv[5]);
  int64_t duration_ms = (int64_t)(atof(argv[6]) * 1000);
  int64_t drain_ms = (int64_t)(atof(argv[7]) * 1000);
  blast = argc > 8 && strcmp(argv[8], "blast") == 0;

  sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  int size = 8 * 1024 * 1024;
  setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  struct sockaddr_in to = {0};
  to.sin_family = AF_INET;
  to.sin_port = htons((uint16_t)port);
  inet_pton(AF_INET, host, &to.sin_addr);
  if (connect(sock, (struct sockaddr *)&to, sizeof to) != 0) {
    perror("connect");
    return 1;
  }

  pending = calloc((size_t)meters, sizeof(Queue));
  produced = calloc((size_t)meters, sizeof(List));
  last_sent = malloc((size_t)meters * sizeof(int64_t));
  last_produced = calloc((size_t)meters, sizeof(int64_t));
  acked = malloc((size_t)meters * sizeof(int64_t));
  for (long i = 0; i < meters; i++) last_sent[i] = acked[i] = INT64_MIN;

  /* Sending phase: a steady rate, meters in turn, every reading a new datagram (with the meter's backlog). */
  int64_t started = now_ms();
  long long due = 0;
  long next = 0;
  for (;;) {
    int64_t now = now_ms();
    int64_t elapsed = now - started;
    if (elapsed >= duration_ms) break;
    long long target = (long long)((double)elapsed * rate / 1000.0);
    for (; due < target; due++) {
      long i = next;
      next = (next + 1) % meters;
      /* A meter's timestamps strictly rise and follow the clock. */
      int64_t ts = last_produced[i] + 1 > now ? last_produced[i] + 1 : now;
      last_produced[i] = ts;
      sent_readings++;
      if (blast) {
        char *buf = out_next();
        out_commit((size_t)reading_line(buf, i, ts));
        continue;
      }
      append(&produced[i], ts);
      push(&pending[i], ts);
      send_meter(i);
    }
    flush_out();
    receive(1);
  }
  /* Late ACKs of the last readings are still in flight: give them a moment. */
  int64_t until = now_ms() + 250;
  while (now_ms() < until) receive(10);
  long long acknowledged_while_sending = acknowledged;

  /* Drain phase: resend what is not acknowledged, oldest first, as meters do. */
  int64_t drain_end = now_ms() + (blast ? 0 : drain_ms);
  for (;;) {
    if (now_ms() >= drain_end) break;
    int any = 0;
    for (long i = 0; i < meters; i++) {
      if (pending[i].len > 0) {
        any = 1;
        send_meter(i);
      }
    }
    flush_out();
    if (!any) break;
    int64_t pause_end = now_ms() + 200;
    while (now_ms() < pause_end) receive(10);
  }
  until = now_ms() + 300;
  while (now_ms() < until) receive(10);

  long long unacknowledged = 0;
  for (long i = 0; i < meters; i++) unacknowledged += (long long)pending[i].len;
  printf("{\"sent\":%lld,\"acknowledgedWhileSending\":%lld,\"datagrams\":%lld,\"acknowledged\":%lld,\"unacknowledged\":%lld,\"acks\":{", sent_readings, acknowledged_while_sending, datagrams, acknowledged,
         unacknowledged);
  int comma = 0;
  for (long i = 0; i < meters; i++) {
    if (acked[i] == INT64_MIN) continue;
    printf("%s\"%lld\":%lld", comma ? "," : "", MATRICULA_BASE + first_meter + i, (long long)acked[i]);
    comma = 1;
  }
  printf("},\"produced\":{");
  for (long i = 0; i < meters; i++) {
    printf("%s\"%lld\":[", i > 0 ? "," : "", MATRICULA_BASE + first_meter + i);
    for (size_t k = 0; k < produced[i].len; k++) printf("%s%lld", k > 0 ? "," : "", (long long)produced[i].items[k]);
    printf("]");
  }
  printf("}}\n");
  return 0;
}
