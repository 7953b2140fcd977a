/*
 * Intrusive doubly linked lists: the elements carry prev and next, the
 * owner a head pointer (and a tail pointer for a queue), NULL-terminated,
 * so "for (e = head; e; e = e->next)" walks one. Macros because the
 * element types differ; each evaluates its arguments more than once, so
 * pass plain lvalues.
 */
#ifndef ZC_LIST_H
#define ZC_LIST_H

#include <stddef.h>

/* e becomes the first element. */
#define ZC__LIST_PUSH(head, e)                                  \
    do {                                                        \
        (e)->prev = NULL;                                       \
        (e)->next = (head);                                     \
        if ((e)->next)                                          \
            (e)->next->prev = (e);                              \
        (head) = (e);                                           \
    } while (0)

/* e becomes the last element of a list with a tail pointer. */
#define ZC__LIST_APPEND(head, tail, e)                          \
    do {                                                        \
        (e)->next = NULL;                                       \
        (e)->prev = (tail);                                     \
        if (tail)                                               \
            (tail)->next = (e);                                 \
        else                                                    \
            (head) = (e);                                       \
        (tail) = (e);                                           \
    } while (0)

/* e leaves a list with a tail pointer; its own pointers are left as
 * they were (a caller may thread it onto another list). */
#define ZC__LIST_REMOVE_TAIL(head, tail, e)                     \
    do {                                                        \
        if ((e)->prev)                                          \
            (e)->prev->next = (e)->next;                        \
        else                                                    \
            (head) = (e)->next;                                 \
        if ((e)->next)                                          \
            (e)->next->prev = (e)->prev;                        \
        else                                                    \
            (tail) = (e)->prev;                                 \
    } while (0)

/* e leaves a list without a tail pointer; likewise. */
#define ZC__LIST_REMOVE(head, e)                                \
    do {                                                        \
        if ((e)->prev)                                          \
            (e)->prev->next = (e)->next;                        \
        else                                                    \
            (head) = (e)->next;                                 \
        if ((e)->next)                                          \
            (e)->next->prev = (e)->prev;                        \
    } while (0)

#endif
