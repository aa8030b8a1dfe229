/* SPDX-License-Identifier: Apache-2.0 */
/* The pairing label's QR code (lorawatch keygen): the matrix from libqrencode, drawn in the
 * terminal with UTF-8 half blocks (two rows of modules a line) or written as a PNG by libpng. */
#include <errno.h>
#include <png.h>
#include <qrencode.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ISO/IEC 18004: four modules of light margin around the symbol. */
#define QUIET 4

/* Byte mode at error correction level M: the label survives a smudge or a scratch. */
static QRcode *encode(const char *text)
{
    return QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
}

/* Dark module at (x, y) of the symbol with its margin. */
static bool dark(const QRcode *q, int x, int y)
{
    x -= QUIET;
    y -= QUIET;
    if (x < 0 || y < 0 || x >= q->width || y >= q->width)
        return false;
    return q->data[y * q->width + x] & 1;
}

int cli_qr_text(const char *text, FILE *out, bool color)
{
    QRcode *q = encode(text);
    if (!q)
        return -1;
    int size = q->width + 2 * QUIET;
    /* Dark modules as ink on a light ground. In colour (a terminal) the ground and the ink are
     * set explicitly, so a dark terminal background does not invert the symbol. */
    for (int y = 0; y < size; y += 2) {
        if (color)
            fputs("\033[30;107m", out);
        for (int x = 0; x < size; x++) {
            bool top = dark(q, x, y), bottom = y + 1 < size && dark(q, x, y + 1);
            fputs(top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ", out);
        }
        if (color)
            fputs("\033[0m", out);
        fputc('\n', out);
    }
    QRcode_free(q);
    return 0;
}

int cli_qr_png(const char *text, const char *path, int scale, char *why, size_t whycap)
{
    QRcode *q = encode(text);
    if (!q) {
        snprintf(why, whycap, "the text does not fit a QR code: %s", strerror(errno));
        return -1;
    }
    int size = (q->width + 2 * QUIET) * scale;
    FILE *fp = fopen(path, "wb");
    png_structp png = fp ? png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL) : NULL;
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *row = malloc((size_t)size);
    volatile int rc = -1; /* kept across libpng's longjmp */
    if (!fp) {
        snprintf(why, whycap, "%s", strerror(errno));
        goto out;
    }
    if (!png || !info || !row) {
        snprintf(why, whycap, "out of memory");
        goto out;
    }
    if (setjmp(png_jmpbuf(png))) {
        snprintf(why, whycap, "PNG not written (disk full?)");
        goto out;
    }
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)size, (png_uint_32)size, 8, PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_text t = {.compression = PNG_TEXT_COMPRESSION_NONE,
                  .key = (png_charp) "Title",
                  .text = (png_charp)text};
    png_set_text(png, info, &t, 1);
    png_write_info(png, info);
    for (int y = 0; y < size; y++) {
        for (int x = 0; x < size; x++)
            row[x] = dark(q, x / scale, y / scale) ? 0 : 255;
        png_write_row(png, row);
    }
    png_write_end(png, info);
    rc = 0;
out:
    if (png)
        png_destroy_write_struct(&png, info ? &info : NULL);
    free(row);
    if (fp && fclose(fp) != 0 && rc == 0) {
        snprintf(why, whycap, "%s", strerror(errno));
        rc = -1;
    }
    QRcode_free(q);
    return rc;
}
