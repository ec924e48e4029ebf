package dfbmodels.io;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/** An input stream that keeps every byte read from it, to be read again. */
final class RecordingInputStream extends InputStream {
    private final InputStream in;
    private byte[] buf;
    private int count;

    RecordingInputStream(InputStream in, int expected) {
        this.in = in;
        buf = new byte[Math.max(1024, expected)];
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b >= 0) {
            ensure(1);
            buf[count++] = (byte) b;
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
            ensure(n);
            System.arraycopy(b, off, buf, count, n);
            count += n;
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        // skipped bytes are kept too, read straight into the buffer
        long done = 0;
        while (done < n) {
            int want = (int) Math.min(1 << 20, n - done);
            ensure(want);
            int r = in.read(buf, count, want);
            if (r < 0) {
                break;
            }
            count += r;
            done += r;
        }
        return done;
    }

    /** Reads everything left in the stream. */
    void drain() throws IOException {
        skip(Long.MAX_VALUE);
    }

    int count() {
        return count;
    }

    byte[] bytes() {
        return buf;
    }

    /** A stream of the bytes read so far. */
    InputStream replay() {
        return new ByteArrayInputStream(buf, 0, count);
    }

    private void ensure(int more) throws IOException {
        if (count + more > buf.length) {
            long size = Math.max((long) count + more, 2L * buf.length);
            if (size > Integer.MAX_VALUE - 8) {
                throw new IOException(
                        "parameter data over 2 GB cannot be validated before loading");
            }
            buf = Arrays.copyOf(buf, (int) size);
        }
    }
}
