/* linux-malloc: malloc/free churn (small blocks from the heap, large ones mmap'ed), realloc, calloc,
 * with every block's contents checked before it is freed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 512
static unsigned char* blocks[SLOTS];
static size_t sizes[SLOTS];
static uint64_t state = 88172645463325252ull;
static uint64_t next(void) { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state; }

int main(void) {
    int failures = 0;
    for (int round = 0; round < 20000; ++round) {
        int slot = (int)(next() % SLOTS);
        if (blocks[slot]) {
            for (size_t i = 0; i < sizes[slot]; ++i)
                if (blocks[slot][i] != (unsigned char)(slot + i)) { ++failures; break; }
            free(blocks[slot]);
            blocks[slot] = NULL;
            continue;
        }
        size_t size = (next() % 16 == 0) ? 130000 + next() % 100000 : 1 + next() % 2048;
        blocks[slot] = malloc(size);
        if (!blocks[slot]) { printf("linux-malloc: FAILED: malloc(%zu)\n", size); return 1; }
        sizes[slot] = size;
        for (size_t i = 0; i < size; ++i) blocks[slot][i] = (unsigned char)(slot + i);
    }
    for (int slot = 0; slot < SLOTS; ++slot) free(blocks[slot]);
    char* grown = malloc(16);
    strcpy(grown, "realloc keeps");
    grown = realloc(grown, 100000);
    if (!grown || strcmp(grown, "realloc keeps") != 0) ++failures;
    free(grown);
    int* zeros = calloc(1000, sizeof(int));
    for (int i = 0; zeros && i < 1000; ++i) failures += zeros[i] != 0;
    free(zeros);
    if (failures) { printf("linux-malloc: FAILED: %d corrupted blocks\n", failures); return 1; }
    printf("linux-malloc: ok\n");
    return 0;
}
