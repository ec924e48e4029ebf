package dfbmodels.examples;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * The segmentation paper's figure: one row per noise level, columns input, the feedback model's
 * initial prediction (its head on the zero state), its prediction after every step, the feedforward
 * prediction and the truth; probabilities of the polygon class in the plasma colour map.
 */
final class PolygonsFigure {

    // matplotlib's plasma at 0, 1/8, ..., 1
    private static final int[][] PLASMA = {
        {13, 8, 135},
        {75, 3, 161},
        {125, 3, 168},
        {168, 34, 150},
        {203, 70, 121},
        {229, 107, 93},
        {248, 148, 65},
        {253, 195, 40},
        {240, 249, 33}
    };

    private static final int GAP = 4;
    private static final int LEFT = 56;
    private static final int TOP = 64;

    /** One row: the noise level, the RGB input and the probability maps, each H×W row-major. */
    static final class Row {
        final float sigma;
        final float[] input;
        final float[] initial;
        final List<float[]> steps;
        final float[] feedforward;
        final float[] truth;

        Row(
                float sigma,
                float[] input,
                float[] initial,
                List<float[]> steps,
                float[] feedforward,
                float[] truth) {
            this.sigma = sigma;
            this.input = input;
            this.initial = initial;
            this.steps = steps;
            this.feedforward = feedforward;
            this.truth = truth;
        }
    }

    private PolygonsFigure() {}

    static void write(Path file, List<Row> rows, int height, int width) throws IOException {
        int steps = rows.get(0).steps.size();
        int scale = Math.max(1, 128 / Math.max(height, width));
        int cellW = width * scale;
        int cellH = height * scale;
        int columns = steps + 4;
        int imageW = LEFT + columns * (cellW + GAP);
        int imageH = TOP + rows.size() * (cellH + GAP) + 8;
        BufferedImage image = new BufferedImage(imageW, imageH, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(
                    RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, imageW, imageH);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            colourBar(g, LEFT, 6, columns * (cellW + GAP) - GAP);
            String[] headers = new String[columns];
            headers[0] = "input";
            headers[1] = "fb initial";
            for (int t = 0; t < steps; t++) {
                headers[2 + t] = "fb t=" + t;
            }
            headers[columns - 2] = "ff";
            headers[columns - 1] = "truth";
            FontMetrics fm = g.getFontMetrics();
            for (int c = 0; c < columns; c++) {
                int x = LEFT + c * (cellW + GAP) + (cellW - fm.stringWidth(headers[c])) / 2;
                g.drawString(headers[c], x, TOP - 8);
            }
            for (int r = 0; r < rows.size(); r++) {
                Row row = rows.get(r);
                int y = TOP + r * (cellH + GAP);
                String label = String.format(Locale.ROOT, "σ=%s", trim(row.sigma));
                g.drawString(label, 6, y + cellH / 2 + 5);
                int c = 0;
                g.drawImage(rgb(row.input, height, width, scale), x(c++, cellW), y, null);
                g.drawImage(plasma(row.initial, height, width, scale), x(c++, cellW), y, null);
                for (float[] p : row.steps) {
                    g.drawImage(plasma(p, height, width, scale), x(c++, cellW), y, null);
                }
                g.drawImage(plasma(row.feedforward, height, width, scale), x(c++, cellW), y, null);
                g.drawImage(plasma(row.truth, height, width, scale), x(c, cellW), y, null);
            }
        } finally {
            g.dispose();
        }
        ImageIO.write(image, "png", file.toFile());
    }

    private static String trim(float v) {
        return v == Math.rint(v) ? String.valueOf((int) v) : String.valueOf(v);
    }

    private static int x(int column, int cellW) {
        return LEFT + column * (cellW + GAP);
    }

    private static void colourBar(Graphics2D g, int x, int y, int w) {
        for (int i = 0; i < w; i++) {
            g.setColor(new Color(plasma(i / (double) (w - 1))));
            g.drawLine(x + i, y + 14, x + i, y + 26);
        }
        g.setColor(Color.BLACK);
        g.drawString("0", x, y + 12);
        String one = "1   probability of the polygon class";
        g.drawString(one, x + w - g.getFontMetrics().stringWidth(one), y + 12);
    }

    private static BufferedImage rgb(float[] chw, int h, int w, int scale) {
        BufferedImage img = new BufferedImage(w * scale, h * scale, BufferedImage.TYPE_INT_RGB);
        int plane = h * w;
        int channels = chw.length / plane;
        for (int y = 0; y < h * scale; y++) {
            for (int x = 0; x < w * scale; x++) {
                int p = (y / scale) * w + x / scale;
                int r = byteOf(chw[p]);
                int gr = byteOf(chw[Math.min(1, channels - 1) * plane + p]);
                int b = byteOf(chw[Math.min(2, channels - 1) * plane + p]);
                img.setRGB(x, y, (r << 16) | (gr << 8) | b);
            }
        }
        return img;
    }

    private static BufferedImage plasma(float[] hw, int h, int w, int scale) {
        BufferedImage img = new BufferedImage(w * scale, h * scale, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h * scale; y++) {
            for (int x = 0; x < w * scale; x++) {
                img.setRGB(x, y, plasma(hw[(y / scale) * w + x / scale]));
            }
        }
        return img;
    }

    private static int byteOf(float v) {
        return Math.max(0, Math.min(255, Math.round(v * 255)));
    }

    /** The plasma colour of {@code v} in [0, 1], as 0xRRGGBB. */
    static int plasma(double v) {
        double s = Math.max(0, Math.min(1, v)) * (PLASMA.length - 1);
        int i = Math.min((int) s, PLASMA.length - 2);
        double f = s - i;
        int rgb = 0;
        for (int k = 0; k < 3; k++) {
            int c = (int) Math.round(PLASMA[i][k] * (1 - f) + PLASMA[i + 1][k] * f);
            rgb = (rgb << 8) | c;
        }
        return rgb;
    }
}
