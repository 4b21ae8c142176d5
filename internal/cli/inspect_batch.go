package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/convctl/convctl/pkg/inspect"
	"github.com/convctl/convctl/pkg/tokensource"
)

// ---- --batch -------------------------------------------------------------

// batchChunk is a run of input lines judged by one worker and written in order.
type batchChunk struct {
	lines []batchLine
	out   []byte
	done  chan struct{}
}

type batchLine struct {
	n       int // 1-based input line number
	token   string
	tooLong int // bytes in a line over tokensource.MaxSize, judged without being kept
}

const batchChunkMax = 256

// batchRun is one --batch pipeline: a reader cuts the input into chunks
// (flushing early whenever the input has nothing more buffered, so a slow
// producer still sees answers promptly), workers judge and encode whole
// chunks, and the writer emits chunks in input order.
type batchRun struct {
	in      *inspect.Inspector
	work    chan *batchChunk // to the workers
	ordered chan *batchChunk // to the writer, in input order
	// Chunks' encoded output is recycled once written: at a kilobyte a
	// report, fresh buffers would make the garbage collector the bottleneck.
	outBufs        sync.Pool
	invalid, total atomic.Int64
}

// runInspectBatch judges tokens one a line on every core.
func runInspectBatch(ctx context.Context, opts *InspectOptions) error {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	b := &batchRun{in: opts.inspector(), work: make(chan *batchChunk, workers), ordered: make(chan *batchChunk, 2*workers)}
	b.outBufs.New = func() any { buf := make([]byte, 0, 64<<10); return &buf }
	var wg sync.WaitGroup
	for range workers {
		wg.Go(b.judge)
	}
	readErr := make(chan error, 1)
	go func() { readErr <- b.read(ctx, opts.BatchIn) }()

	if err := b.write(ctx, opts.IO.Out); err != nil {
		return err
	}
	wg.Wait()
	rerr := <-readErr
	switch {
	case rerr != nil:
		return rerr
	case ctx.Err() != nil:
		return cannotFinish(ctx.Err())
	case b.total.Load() == 0:
		return usageErrorf("no tokens in the input: --batch reads one token a line")
	case b.invalid.Load() > 0:
		return errFailed
	}
	return nil
}

// judge is one worker: it judges and encodes whole chunks until the reader
// closes the work queue.
func (b *batchRun) judge() {
	var scratch []byte
	for c := range b.work {
		out := (*b.outBufs.Get().(*[]byte))[:0]
		for _, l := range c.lines {
			r := b.in.Inspect(l.token)
			if l.tooLong > 0 {
				r = tooLongReport(r, l.tooLong)
			}
			if !r.Valid {
				b.invalid.Add(1)
			}
			// {"line":N, then the report's fields.
			out = append(out, `{"line":`...)
			out = strconv.AppendInt(out, int64(l.n), 10)
			out = append(out, ',')
			scratch = r.AppendJSON(scratch[:0])
			out = append(out, scratch[1:]...)
			out = append(out, '\n')
		}
		c.out = out
		close(c.done)
	}
}

// read hands each chunk to the writer's queue, then to the workers'.
func (b *batchRun) read(ctx context.Context, r io.Reader) error {
	defer close(b.ordered)
	defer close(b.work)
	return readBatch(ctx, r, func(c *batchChunk) bool {
		b.total.Add(int64(len(c.lines)))
		select {
		case b.ordered <- c:
		case <-ctx.Done():
			return false
		}
		select {
		case b.work <- c:
			return true
		case <-ctx.Done():
			close(c.done)
			return false
		}
	})
}

// write emits chunks in input order as each is judged.
func (b *batchRun) write(ctx context.Context, out io.Writer) error {
	w := bufio.NewWriterSize(out, 64<<10)
	for c := range b.ordered {
		select {
		case <-c.done:
		case <-ctx.Done():
			// Interrupted. The reader may be blocked reading a terminal or a
			// pipe that nothing can unblock; the process is about to exit.
			w.Flush()
			return cannotFinish(context.Cause(ctx))
		}
		_, err := w.Write(c.out)
		b.outBufs.Put(&c.out)
		if err == nil && len(b.ordered) == 0 {
			err = w.Flush() // nothing else ready: let the reader see it now
		}
		if err != nil { // e.g. the reading end of a pipe closed
			return cannotFinish(fmt.Errorf("writing reports: %w", err))
		}
	}
	if err := w.Flush(); err != nil {
		return cannotFinish(fmt.Errorf("writing reports: %w", err))
	}
	return nil
}

// readBatch reads lines and hands them to emit in chunks. Blank lines are
// skipped (their numbers still count); each line is cleaned as every token
// source cleans (whitespace, a Bearer prefix).
func readBatch(ctx context.Context, r io.Reader, emit func(*batchChunk) bool) error {
	br := bufio.NewReaderSize(r, 64<<10)
	chunk := &batchChunk{done: make(chan struct{})}
	flush := func() bool {
		if len(chunk.lines) == 0 {
			return true
		}
		c := chunk
		chunk = &batchChunk{done: make(chan struct{})}
		return emit(c)
	}
	var long []byte
	skipped := 0 // bytes of a line over the limit, dropped as read
	for n := 1; ; {
		if ctx.Err() != nil {
			return nil
		}
		frag, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			switch {
			case skipped > 0:
				skipped += len(frag)
			case len(long)+len(frag) > tokensource.MaxSize:
				skipped = len(long) + len(frag)
				long = nil
			default:
				long = append(long, frag...)
			}
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			flush()
			return asUsage(fmt.Errorf("reading tokens: %w", err))
		}
		line := frag
		if long != nil {
			line = append(long, frag...)
			long = nil
		}
		if skipped > 0 || len(line) > tokensource.MaxSize {
			// Not a token: judged as a malformed line, and the batch goes on.
			chunk.lines = append(chunk.lines, batchLine{n: n, tooLong: skipped + len(bytes.TrimRight(line, "\r\n"))})
			skipped = 0
			n++
		} else if len(line) > 0 {
			if tok := tokensource.Clean(string(line)); tok != "" {
				chunk.lines = append(chunk.lines, batchLine{n: n, token: tok})
			}
			n++
		}
		if err != nil { // EOF
			flush()
			return nil
		}
		if len(chunk.lines) >= batchChunkMax || br.Buffered() == 0 {
			if !flush() {
				return nil
			}
		}
	}
}

// tooLongReport is the report for a line over tokensource.MaxSize: r (the
// report of an empty token) with its finding saying what the line was.
func tooLongReport(r *inspect.Report, size int) *inspect.Report {
	r.Findings = r.Findings[:1]
	r.Findings[0].Message = "line is " + strconv.Itoa(size) + " bytes, over the " + strconv.Itoa(tokensource.MaxSize) + "-byte limit: not a token (an Access Token is well under 8 KiB)"
	r.Findings[0].Hint = "put one token a line; a line this long is another file or a token joined with others"
	return r
}
