/* Scratch folders for tests: made under $TMPDIR (or /tmp), removed recursively at the end. */
#ifndef SPIKEUNET_TEST_TMPDIR_H
#define SPIKEUNET_TEST_TMPDIR_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Fills buf (>= 256 bytes) with a fresh folder name; returns 0 on success. */
static inline int tmpdir_make(char *buf, size_t cap, const char *tag) {
    const char *base = getenv("TMPDIR");
    snprintf(buf, cap, "%s/su_%s_XXXXXX", base && *base ? base : "/tmp", tag);
    return mkdtemp(buf) ? 0 : -1;
}

static inline void tmpdir_remove(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
                size_t len = strlen(path) + strlen(e->d_name) + 2;
                char *sub = malloc(len);
                if (!sub) continue;
                memcpy(sub, path, strlen(path));
                sub[strlen(path)] = '/';
                memcpy(sub + strlen(path) + 1, e->d_name, strlen(e->d_name) + 1);
                tmpdir_remove(sub);
                free(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* Writes a text file (for Info.cfg and the like); returns 0 on success. */
static inline int write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* Number of entries in a folder (without . and ..), or -1. */
static inline int dir_entries(const char *path) {
    DIR *d = opendir(path);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

#endif
